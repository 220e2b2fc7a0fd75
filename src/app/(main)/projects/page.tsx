import type { Metadata } from "next";
import Link from "next/link";
import { agentDefinition, agentKinds, defaultAgentKind, findAgentDefinition } from "@/agents/registry";
import { NewProjectDialog } from "@/components/projects/new-project-dialog";
import { type AgentChoices, NewProjectForm } from "@/components/projects/new-project-form";
import { PreparationNotice } from "@/components/projects/preparation-notice";
import { StatusBadge } from "@/components/projects/status-badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { timeAgo } from "@/lib/format";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { providerAvailability } from "@/server/operations/provider-availability";
import { getPlatform } from "@/server/platform/get-platform";
import { readPreparationStatus } from "@/server/preparation/preparation-status";
import { preparationOrder } from "@/server/preparation/prepare-caches";
import { getModelDefaults } from "@/server/projects/model-defaults";
import { listProjects } from "@/server/projects/project-queries";

export const metadata: Metadata = { title: "Projects" };

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const usd = new Intl.NumberFormat("en", { style: "currency", currency: "USD", maximumFractionDigits: 2 });

export default async function ProjectsPage() {
  const operator = await requireOperatorOrRedirect("/projects");
  const platform = await getPlatform();
  const { db } = platform;
  const [projects, availability, preparation, defaults] = await Promise.all([
    listProjects(db, operator.id),
    providerAvailability(platform, operator.id),
    readPreparationStatus(platform.caches, preparationOrder),
    getModelDefaults(db, operator.id),
  ]);
  // The operator's defaults (Settings) preselect the agent and model.
  const agentChoices: AgentChoices = {
    options: agentKinds.map((kind) => {
      const definition = agentDefinition(kind);
      return {
        kind,
        label: definition.pickerLabel,
        vendor: definition.vendor,
        defaultModel: definition.defaultModel,
      };
    }),
    initial: defaults.agent ?? defaultAgentKind,
    initialModel: defaults.provider
      ? { provider: defaults.provider, model: defaults.model ?? "" }
      : undefined,
  };
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
            <NewProjectForm size="hero" availability={availability} agents={agentChoices} />
          </CardContent>
        </Card>
        <PreparationNotice initial={preparation} />
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
        <NewProjectDialog availability={availability} agents={agentChoices} />
      </div>
      <PreparationNotice initial={preparation} />
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {projects.map((project) => (
          <li key={project.id}>
            <Link
              href={`/projects/${project.id}`}
              className="block h-full rounded-xl focus-visible:outline-2 focus-visible:outline-ring"
            >
              <Card className="h-full overflow-hidden pt-0 transition-colors hover:border-primary/50">
                <div className="aspect-[16/10] border-b bg-muted/40">
                  {project.screenshotUrl ? (
                    // biome-ignore lint/performance/noImgElement: an authenticated API image, not a static asset
                    <img
                      src={project.screenshotUrl}
                      alt={`Latest screenshot of ${project.name}`}
                      className="size-full object-cover object-top"
                      loading="lazy"
                    />
                  ) : (
                    <div className="flex size-full items-center justify-center text-muted-foreground text-xs">
                      No preview yet
                    </div>
                  )}
                </div>
                <CardHeader>
                  <div className="flex items-start justify-between gap-2">
                    <CardTitle className="line-clamp-2 leading-snug">{project.name}</CardTitle>
                    <StatusBadge status={project.status} />
                  </div>
                  <CardDescription>
                    {findAgentDefinition(project.agent)?.label ?? project.agent} · {project.taskCount} task
                    {project.taskCount === 1 ? "" : "s"}
                  </CardDescription>
                </CardHeader>
                <CardContent className="flex flex-wrap justify-between gap-x-3 gap-y-1 text-muted-foreground text-xs">
                  <span>Last activity {timeAgo(project.lastActivityAt, now)}</span>
                  <span className="tabular-nums">
                    {compact.format(project.usage.inputTokens + project.usage.outputTokens)} tokens
                    {project.usage.costUsd > 0 ? ` · ${usd.format(project.usage.costUsd)}` : ""}
                  </span>
                </CardContent>
              </Card>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
