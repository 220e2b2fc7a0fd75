import Link from "next/link";
import { Button } from "@/components/ui/button";

export default function NotFound() {
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col items-center justify-center gap-4 p-6 text-center">
      <p className="font-mono text-muted-foreground text-sm">404</p>
      <h1 className="font-semibold text-2xl">Nothing here</h1>
      <p className="text-muted-foreground">The page does not exist, or it belongs to someone else.</p>
      <Button asChild variant="outline">
        <Link href="/projects">Back to projects</Link>
      </Button>
    </main>
  );
}
