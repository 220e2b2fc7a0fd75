"use client";

import { useEffect } from "react";
import { Button } from "@/components/ui/button";

// Shown when rendering a page throws. The details stay in the server log; the visitor gets a calm way out.
export default function ErrorPage({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  useEffect(() => {
    console.error(error);
  }, [error]);

  return (
    <main className="mx-auto flex min-h-dvh w-full max-w-md flex-col items-center justify-center gap-4 px-6 text-center">
      <h1 className="font-semibold text-2xl tracking-tight">Something went wrong</h1>
      <p className="text-muted-foreground">
        The page could not be shown. Try again; if it keeps happening, the error is in the server log
        {error.digest ? ` (reference ${error.digest})` : ""}.
      </p>
      <Button type="button" onClick={reset}>
        Try again
      </Button>
    </main>
  );
}
