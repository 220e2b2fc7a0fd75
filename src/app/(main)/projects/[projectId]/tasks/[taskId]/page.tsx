import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { ProjectNameEditor } from "@/components/projects/project-name-editor";
import { PublishControl } from "@/components/workspace/publish-control";
import { ShareControl } from "@/components/workspace/share-control";
import { Workspace } from "@/components/workspace/workspace";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { isAppError } from "@/server/errors";
import { getPlatform } from "@/server/platform/get-platform";
import { getProjectOrThrow } from "@/server/projects/project-queries";
import { getShareLink } from "@/server/share-links/share-link";
import { getWorkspace } from "@/server/tasks/workspace";

type Params = { projectId: string; taskId: string };

const returnPath = (ids: Params) =>
  `/projects/${encodeURIComponent(ids.projectId)}/tasks/${encodeURIComponent(ids.taskId)}`;

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const ids = await params;
  const operator = await requireOperatorOrRedirect(returnPath(ids));
  const [{ project, task }] = await load(operator.id, ids.projectId, ids.taskId);
  // The tab names the project (and the task when it is called something else), never just "Workspace".
  return {
    title: task.title && task.title !== project.name ? `${task.title} · ${project.name}` : project.name,
  };
}

/** Read once per request: the metadata and the page both need it. */
const load = cache(async (userId: string, projectId: string, taskId: string) => {
  const { db, previewOrigins, publicUrl } = await getPlatform();
  try {
    return await Promise.all([
      getWorkspace(db, previewOrigins, userId, projectId, taskId),
      getShareLink(db, publicUrl, userId, taskId),
      getProjectOrThrow(db, userId, projectId),
    ]);
  } catch (error) {
    if (isAppError(error) && (error.code === "not_found:task" || error.code === "not_found:project"))
      notFound();
    throw error;
  }
});

export default async function WorkspacePage({ params }: { params: Promise<Params> }) {
  const ids = await params;
  const operator = await requireOperatorOrRedirect(returnPath(ids));
  const [workspace, share, { project }] = await load(operator.id, ids.projectId, ids.taskId);
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex shrink-0 items-center justify-between gap-3 border-b px-4 py-1.5">
        <div className="min-w-0">
          <div className="flex min-w-0 items-center gap-1 text-muted-foreground text-xs">
            <nav aria-label="Breadcrumb" className="flex min-w-0 gap-1">
              <Link href="/projects" className="hover:text-foreground">
                Projects
              </Link>
              <span aria-hidden>/</span>
              <Link href={`/projects/${workspace.project.id}`} className="truncate hover:text-foreground">
                {workspace.project.name}
              </Link>
            </nav>
            <span className="hidden shrink-0 truncate sm:inline">
              {" · "}
              {workspace.task.title !== workspace.project.name ? `${workspace.task.title} · ` : ""}
              <span className="font-mono">branch {workspace.task.branch}</span>
            </span>
          </div>
          <ProjectNameEditor
            as="h1"
            projectId={workspace.project.id}
            name={workspace.project.name}
            className="font-semibold text-base tracking-tight"
          />
        </div>
        <div className="flex shrink-0 items-center gap-2">
          <PublishControl
            projectId={workspace.project.id}
            initial={{ published: project.published, publishable: project.publishable }}
          />
          <ShareControl taskId={workspace.task.id} initial={share} />
        </div>
      </div>
      <Workspace
        projectId={workspace.project.id}
        taskId={workspace.task.id}
        mainTaskId={workspace.mainTaskId}
        revisions={workspace.revisions}
        events={workspace.events}
        lastCursor={workspace.lastCursor}
        truncated={workspace.truncated}
      />
    </div>
  );
}
