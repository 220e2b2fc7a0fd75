import { CloudIcon, DatabaseIcon, GitBranchIcon, type LucideIcon, ServerIcon } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { CardStatusBadge } from "@/components/projects/card-status-badge";
import { DeleteProjectButton } from "@/components/projects/delete-project-button";
import { ProjectBudgetCard } from "@/components/projects/project-budget-card";
import { ProjectNameEditor } from "@/components/projects/project-name-editor";
import { StatusBadge } from "@/components/projects/status-badge";
import { NewTaskDialog } from "@/components/tasks/new-task-dialog";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { timeAgo } from "@/lib/format";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { isAppError } from "@/server/errors";
import { describeOrigin } from "@/server/integrations/git-host/import-source";
import { getPlatform } from "@/server/platform/get-platform";
import { getProjectBudgetView } from "@/server/projects/project-budget-view";
import type { ProjectSummaryDto } from "@/server/projects/project-dto";
import { getProjectOrThrow } from "@/server/projects/project-queries";
import { listTaskStartPoints } from "@/server/tasks/task-start-points";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ projectId: string }>;
}): Promise<Metadata> {
  const { projectId } = await params;
  const operator = await requireOperatorOrRedirect(`/projects/${encodeURIComponent(projectId)}`);
  // The tab names the project, so several open projects can be told apart.
  return { title: (await loadProject(operator.id, projectId)).project.name };
}

const providerNames: Record<string, string> = {
  github: "GitHub",
  local: "Local",
  tidbcloud: "TiDB Cloud",
  mysql: "MySQL server",
  libsql: "Embedded libSQL",
  vercel: "Vercel",
};

/** Read once per request: the metadata and the page both need it. */
const loadProject = cache(async (userId: string, projectId: string) => {
  try {
    return await getProjectOrThrow((await getPlatform()).db, userId, projectId);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found:project") notFound();
    throw error;
  }
});

function ResourceCard(props: {
  icon: LucideIcon;
  title: string;
  provider: string;
  value: string | null;
  /** Shown as a link that opens in a new tab (the published app). */
  href?: string | null;
  note?: string | null;
  empty: string;
}) {
  const Icon = props.icon;
  return (
    <Card>
      <CardHeader>
        <CardTitle className="flex items-center gap-2 text-sm">
          <Icon className="size-4 text-muted-foreground" aria-hidden />
          {props.title}
        </CardTitle>
        <CardDescription>{providerNames[props.provider] ?? props.provider}</CardDescription>
      </CardHeader>
      <CardContent className="text-sm">
        {props.value && props.href ? (
          <a
            href={props.href}
            target="_blank"
            rel="noreferrer"
            className="break-all font-mono underline underline-offset-2 hover:text-primary"
          >
            {props.value}
          </a>
        ) : props.value ? (
          <span className="break-all font-mono">{props.value}</span>
        ) : (
          <span className="text-muted-foreground">{props.empty}</span>
        )}
        {props.note ? <p className="mt-1 text-muted-foreground text-xs">{props.note}</p> : null}
      </CardContent>
    </Card>
  );
}

function resources(project: ProjectSummaryDto) {
  return [
    {
      icon: GitBranchIcon,
      title: "Repository",
      provider: project.providers.git,
      value: project.repo?.fullName ?? null,
      empty: "Created when the first build starts",
    },
    {
      icon: DatabaseIcon,
      title: "Database",
      provider: project.providers.database,
      value: project.database?.rootName ?? project.database?.rootId ?? null,
      empty: "Provisioned with the first build",
    },
    {
      icon: ServerIcon,
      title: "Sandbox",
      provider: project.providers.sandbox,
      value: null,
      empty: "Starts for each build and preview",
    },
    {
      icon: CloudIcon,
      title: "Published app",
      provider: project.providers.deploy,
      value: project.published?.url ?? null,
      href: project.published?.url ?? null,
      note: project.published ? `Serving checkpoint ${project.published.ordinal}` : null,
      empty: "Not published: press Publish in the workspace",
    },
  ];
}

export default async function ProjectPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  const operator = await requireOperatorOrRedirect(`/projects/${encodeURIComponent(projectId)}`);
  const { project, tasks } = await loadProject(operator.id, projectId);
  const platform = await getPlatform();
  const startPoints = await listTaskStartPoints(platform.db, operator.id, project.id);
  const budget = await getProjectBudgetView(platform.db, operator.id, project.id, platform.runBudget);
  const now = Date.now();

  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 space-y-1">
          <nav aria-label="Breadcrumb" className="text-muted-foreground text-sm">
            <Link href="/projects" className="hover:text-foreground">
              Projects
            </Link>
          </nav>
          <div className="flex flex-wrap items-center gap-3">
            <ProjectNameEditor
              as="h1"
              projectId={project.id}
              name={project.name}
              className="font-semibold text-2xl tracking-tight"
            />
            <CardStatusBadge status={project.card} />
          </div>
          {project.card.note ? <p className="text-muted-foreground text-sm">{project.card.note}</p> : null}
          <p className="text-muted-foreground text-sm">
            Created {timeAgo(project.createdAt, now)} · slug <span className="font-mono">{project.slug}</span>
            {project.source ? (
              <>
                {" "}
                · Imported from{" "}
                <span className="break-all font-mono">
                  {describeOrigin(project.source.kind, project.source.location)}
                </span>
                {project.source.sha ? (
                  <span className="font-mono"> @ {project.source.sha.slice(0, 7)}</span>
                ) : null}
              </>
            ) : null}
          </p>
        </div>
        <DeleteProjectButton projectId={project.id} projectName={project.name} />
      </div>

      <section aria-label="Resources" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {resources(project).map((resource) => (
          <ResourceCard key={resource.title} {...resource} />
        ))}
      </section>

      <section aria-labelledby="tasks-title" className="space-y-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <div className="space-y-1">
            <h2 id="tasks-title" className="font-semibold text-lg">
              Tasks
            </h2>
            <p className="text-muted-foreground text-sm">
              {startPoints.length > 0
                ? "Each task is its own git branch with its own data, started from any finished checkpoint."
                : "A new task starts from a finished checkpoint: wait for the first build to finish."}
            </p>
          </div>
          <NewTaskDialog
            projectId={project.id}
            startPoints={startPoints}
            trigger={{ label: "New task", variant: "outline" }}
            disabled={startPoints.length === 0}
          />
        </div>
        <Card className="py-0">
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Task</TableHead>
                <TableHead>Status</TableHead>
                <TableHead className="hidden sm:table-cell">Branch</TableHead>
                <TableHead className="text-right">Checkpoints</TableHead>
                <TableHead className="hidden text-right md:table-cell">Updated</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {tasks.map((task) => (
                <TableRow key={task.id}>
                  <TableCell className="max-w-md">
                    <Link
                      href={`/projects/${project.id}/tasks/${task.id}`}
                      className="line-clamp-2 whitespace-normal font-medium hover:underline"
                    >
                      {task.title}
                    </Link>
                    {task.isMain ? (
                      <Badge variant="secondary" className="mt-1">
                        main task
                      </Badge>
                    ) : null}
                    {task.latestError ? (
                      <span className="mt-1 block whitespace-normal text-destructive text-xs">
                        {task.latestError}
                      </span>
                    ) : null}
                  </TableCell>
                  <TableCell>
                    <StatusBadge status={task.status} />
                  </TableCell>
                  <TableCell className="hidden font-mono text-xs sm:table-cell">{task.branch}</TableCell>
                  <TableCell className="text-right tabular-nums">{task.revisionCount}</TableCell>
                  <TableCell className="hidden text-right text-muted-foreground md:table-cell">
                    {timeAgo(task.updatedAt, now)}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      </section>

      <section aria-label="Budget">
        <ProjectBudgetCard view={budget} />
      </section>
    </div>
  );
}
