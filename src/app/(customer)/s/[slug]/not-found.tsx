import type { Metadata } from "next";
import { KilnMark } from "@/components/layout/kiln-mark";

export const metadata: Metadata = { title: "Replay not found", robots: { index: false, follow: false } };

// A share link's 404 is seen by anyone holding a link: it offers no way into the operator's app ("Back to
// projects" would only lead a visitor to a sign-in page that is not theirs).
export default function SharedSessionNotFound() {
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col items-center justify-center gap-4 p-6 text-center">
      <KilnMark />
      <p className="font-mono text-muted-foreground text-sm">404</p>
      <h1 className="font-semibold text-2xl">This replay is not available</h1>
      <p className="text-muted-foreground">
        The link is wrong, or whoever shared it has turned it off. Ask them for a new one.
      </p>
    </main>
  );
}
