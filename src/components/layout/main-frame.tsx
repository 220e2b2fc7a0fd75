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
      data-workspace={workspace || undefined}
      className={cn(
        "w-full",
        // The rest of the window under the header, whatever the header holds (the pause banner too): the page
        // frame is exactly the window's height while a workspace is shown (the main layout's outer frame), so flex-1 with
        // min-h-0 can neither grow the page nor push the follow-up box below the fold.
        workspace ? "flex min-h-0 flex-1 flex-col" : "mx-auto max-w-6xl flex-1 px-4 py-8",
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
