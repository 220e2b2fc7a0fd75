import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { SharedReplay } from "@/components/conversation/shared-replay";
import { KilnMark } from "@/components/layout/kiln-mark";
import { ThemeToggle } from "@/components/theme-toggle";
import { isAppError } from "@/server/errors";
import { getPlatform } from "@/server/platform/get-platform";
import { shareUrl } from "@/server/share-links/share-link";
import { getSharedSession } from "@/server/share-links/shared-session";

// Public by design: a share link's replay, read-only, no login (the slug is the proof). An unknown or revoked
// link is the plain 404 page.

type Props = { params: Promise<{ slug: string }> };

/** Read once per request: the metadata and the page both need it. */
const loadSharedSession = cache(async (slug: string) => {
  try {
    const platform = await getPlatform();
    return await getSharedSession(platform.db, platform, slug);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found:route") notFound();
    throw error;
  }
});

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  const session = await loadSharedSession(slug);
  const { publicUrl } = await getPlatform();
  const pageUrl = shareUrl(slug, publicUrl);
  const latest = session.checkpoints.findLast((checkpoint) => checkpoint.hasScreenshot);
  const image = latest ? `${pageUrl}/checkpoints/${latest.ordinal}/screenshot` : undefined;
  const description = "An app built with Kiln: the prompts, the agent's work and the result, replayed.";
  return {
    title: session.title,
    description,
    // Unguessable links are not for search engines, and the URL (the proof) must not leak to linked sites.
    robots: { index: false, follow: false },
    referrer: "no-referrer",
    openGraph: {
      type: "website",
      title: session.title,
      description,
      url: pageUrl,
      images: image
        ? [{ url: image, width: 1280, height: 800, alt: `${session.title}: the app's preview` }]
        : [],
    },
    twitter: { card: image ? "summary_large_image" : "summary", title: session.title, description },
  };
}

export default async function SharedSessionPage({ params }: Props) {
  const { slug } = await params;
  const session = await loadSharedSession(slug);
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="border-b">
        <div className="flex h-14 items-center gap-3 px-4">
          <KilnMark />
          <span className="text-muted-foreground text-sm">Shared session</span>
          <div className="ml-auto">
            <ThemeToggle />
          </div>
        </div>
      </header>
      {/* The whole window under the header (3.5rem and a border): the conversation and the app side by side. */}
      <main className="flex h-[calc(100dvh-3.5rem-1px)] w-full flex-none flex-col">
        <SharedReplay session={session} />
      </main>
    </div>
  );
}
