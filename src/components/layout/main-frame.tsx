"use client";

import { useSelectedLayoutSegments } from "next/navigation";
import { cn } from "@/lib/utils";

/** A task's workspace: /projects/:projectId/tasks/:taskId under the main layout. */
function useIsWorkspace(): boolean {
  const segments = useSelectedLayoutSegments();
  return segments[0] === "projects" && segments[2] === "tasks" && segments.length >= 4;
}

/**
 * The frame under the header: pages read as a centred column, except a task's workspace, which takes the whole
 * window below the header (chat and preview side by side, each scrolling on its own) as app builders do.
 */
export function MainFrame({ children }: { children: React.ReactNode }) {
  const workspace = useIsWorkspace();
  return (
    <main
      className={cn(
        "w-full",
        // Its own height (the header is 3.5rem and a border), not flex-1: a flex basis would override it and let
        // the panes grow the page.
        workspace
          ? "flex h-[calc(100dvh-3.5rem-1px)] min-h-0 flex-none flex-col"
          : "mx-auto max-w-6xl flex-1 px-4 py-8",
      )}
    >
      {children}
    </main>
  );
}

/** The header's row: as wide as the page under it. */
export function HeaderFrame({ children }: { children: React.ReactNode }) {
  const workspace = useIsWorkspace();
  return (
    <div className={cn("mx-auto flex h-14 items-center gap-4 px-4", workspace ? "max-w-none" : "max-w-6xl")}>
      {children}
    </div>
  );
}
