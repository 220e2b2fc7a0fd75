import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ShareControl } from "@/components/workspace/share-control";
import { Workspace } from "@/components/workspace/workspace";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { isAppError } from "@/server/errors";
import { getPlatform } from "@/server/platform/get-platform";
import { getShareLink } from "@/server/share-links/share-link";
import { getWorkspace } from "@/server/tasks/workspace";

export const metadata: Metadata = { title: "Workspace" };

type Params = { projectId: string; taskId: string };

async function load(userId: string, { projectId, taskId }: Params) {
  const { db, previewOrigins, publicUrl } = await getPlatform();
  try {
    return await Promise.all([
      getWorkspace(db, previewOrigins, userId, projectId, taskId),
      getShareLink(db, publicUrl, userId, taskId),
    ]);
  } catch (error) {
    if (isAppError(error) && (error.code === "not_found:task" || error.code === "not_found:project"))
      notFound();
    throw error;
  }
}

export default async function WorkspacePage({ params }: { params: Promise<Params> }) {
  const ids = await params;
  const operator = await requireOperatorOrRedirect(
    `/projects/${encodeURIComponent(ids.projectId)}/tasks/${encodeURIComponent(ids.taskId)}`,
  );
  const [workspace, share] = await load(operator.id, ids);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 space-y-1">
          <nav aria-label="Breadcrumb" className="flex gap-1 text-muted-foreground text-sm">
            <Link href="/projects" className="hover:text-foreground">
              Projects
            </Link>
            <span aria-hidden>/</span>
            <Link href={`/projects/${workspace.project.id}`} className="truncate hover:text-foreground">
              {workspace.project.name}
            </Link>
          </nav>
          <h1 className="break-words font-semibold text-xl tracking-tight">{workspace.task.title}</h1>
          <p className="font-mono text-muted-foreground text-xs">branch {workspace.task.branch}</p>
        </div>
        <ShareControl taskId={workspace.task.id} initial={share} />
      </div>
      <Workspace
        projectId={workspace.project.id}
        taskId={workspace.task.id}
        revisions={workspace.revisions}
        events={workspace.events}
        lastCursor={workspace.lastCursor}
        truncated={workspace.truncated}
      />
    </div>
  );
}
