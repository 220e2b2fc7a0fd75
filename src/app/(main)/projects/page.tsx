import type { Metadata } from "next";
import Link from "next/link";
import { NewProjectDialog } from "@/components/projects/new-project-dialog";
import { NewProjectForm } from "@/components/projects/new-project-form";
import { StatusBadge } from "@/components/projects/status-badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { timeAgo } from "@/lib/format";
import { requireOperatorOrRedirect } from "@/server/auth/current-user";
import { getDb } from "@/server/context";
import { listProjects } from "@/server/projects/project-queries";
import { providerAvailability } from "@/server/projects/start-project";

export const metadata: Metadata = { title: "Projects" };

const agentNames: Record<string, string> = { codex: "Codex", "claude-code": "Claude Code" };

export default async function ProjectsPage() {
  const operator = await requireOperatorOrRedirect("/projects");
  const db = await getDb();
  const [projects, availability] = await Promise.all([
    listProjects(db, operator.id),
    providerAvailability(db, operator.id),
  ]);
  const now = Date.now();

  if (projects.length === 0) {
    return (
      <section className="mx-auto flex max-w-2xl flex-col gap-6 pt-10" aria-labelledby="empty-title">
        <div className="space-y-2 text-center">
          <h1 id="empty-title" className="font-semibold text-3xl tracking-tight">
            What do you want to build?
          </h1>
          <p className="text-muted-foreground">
            Describe an app in a sentence or two. Kiln plans it, writes it with a coding agent, gives it a
            database, and previews it. Every follow-up becomes a checkpoint you can return to.
          </p>
        </div>
        <Card>
          <CardContent>
            <NewProjectForm size="hero" availability={availability} />
          </CardContent>
        </Card>
      </section>
    );
  }

  return (
    <section className="space-y-6" aria-labelledby="projects-title">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 id="projects-title" className="font-semibold text-2xl tracking-tight">
            Projects
          </h1>
          <p className="text-muted-foreground text-sm">
            {projects.length} project{projects.length === 1 ? "" : "s"}
          </p>
        </div>
        <NewProjectDialog availability={availability} />
      </div>
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {projects.map((project) => (
          <li key={project.id}>
            <Link
              href={`/projects/${project.id}`}
              className="block h-full rounded-xl focus-visible:outline-2 focus-visible:outline-ring"
            >
              <Card className="h-full transition-colors hover:border-primary/50">
                <CardHeader>
                  <div className="flex items-start justify-between gap-2">
                    <CardTitle className="line-clamp-2 leading-snug">{project.name}</CardTitle>
                    <StatusBadge status={project.status} />
                  </div>
                  <CardDescription>
                    {agentNames[project.agent] ?? project.agent} · {project.taskCount} task
                    {project.taskCount === 1 ? "" : "s"}
                  </CardDescription>
                </CardHeader>
                <CardContent className="text-muted-foreground text-xs">
                  Last activity {timeAgo(project.lastActivityAt, now)}
                </CardContent>
              </Card>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
