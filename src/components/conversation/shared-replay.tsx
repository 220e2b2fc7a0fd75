"use client";

import { useRouter } from "next/navigation";
import type { SharedSession } from "@/server/share-links/shared-session-types";
import { ReplayPlayer } from "./replay-player";

/** The public page's player: when the running checkpoint ends, the page is re-read (screenshot, links, commit). */
export function SharedReplay({ session }: { session: SharedSession }) {
  const router = useRouter();
  return <ReplayPlayer session={session} onCheckpointSettled={() => router.refresh()} />;
}
