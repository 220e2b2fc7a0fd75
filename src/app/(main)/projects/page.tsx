import { GlobeIcon } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { agentDefinition, agentKinds, defaultAgentKind, findAgentDefinition } from "@/agents/registry";
import { CardStatusBadge } from "@/components/projects/card-status-badge";
import { examplePrompts } from "@/components/projects/example-prompts";
import { NewProjectDialog } from "@/components/projects/new-project-dialog";
import { type AgentChoices, NewProjectForm } from "@/components/projects/new-project-form";
import { PreparationNotice } from "@/components/projects/preparation-notice";
import { ProjectNameEditor } from "@/components/projects/project-name-editor";
import { ProjectSearch } from "@/components/projects/project-search";
import { Card, CardContent, CardDescription } from "@/components/ui/card";
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

// A search that is too long or repeated (?q=a&q=b) is no search rather than an error page.
const searchSchema = z.object({ q: z.string().trim().max(120).optional().catch(undefined) });

export default async function ProjectsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { q: query = "" } = searchSchema.parse(await searchParams);
  const operator = await requireOperatorOrRedirect(
    query ? `/projects?q=${encodeURIComponent(query)}` : "/projects",
  );
  const platform = await getPlatform();
  const { db } = platform;
  const [projects, availability, preparation, defaults] = await Promise.all([
    listProjects(db, operator.id, { nameContains: query }),
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

  if (projects.length === 0 && !query) {
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
            <NewProjectForm
              size="hero"
              availability={availability}
              agents={agentChoices}
              examples={examplePrompts}
            />
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
          <p className="text-muted-foreground text-sm" aria-live="polite">
            {query
              ? `${projects.length} project${projects.length === 1 ? "" : "s"} matching “${query}”`
              : `${projects.length} project${projects.length === 1 ? "" : "s"}`}
          </p>
        </div>
        <div className="flex w-full flex-wrap items-center gap-3 sm:w-auto">
          <ProjectSearch initial={query} />
          <NewProjectDialog availability={availability} agents={agentChoices} />
        </div>
      </div>
      <PreparationNotice initial={preparation} />
      {projects.length === 0 ? (
        <p className="rounded-xl border border-dashed p-8 text-center text-muted-foreground text-sm">
          No project name contains “{query}”.{" "}
          <Link href="/projects" className="text-foreground underline underline-offset-4">
            Show all projects
          </Link>
        </p>
      ) : null}
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {projects.map((project) => {
          // The card opens the main task's workspace; the project page is a click away from its header.
          const href = project.mainTaskId
            ? `/projects/${project.id}/tasks/${project.mainTaskId}`
            : `/projects/${project.id}`;
          return (
            <li key={project.id}>
              <Card className="relative h-full overflow-hidden pt-0 transition-colors hover:border-primary/50 has-[a:focus-visible]:outline-2 has-[a:focus-visible]:outline-ring">
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
                {/* Not CardHeader: a container query there would confine the name link's overlay to the header. */}
                <div className="grid gap-1.5 px-6">
                  <div className="flex items-start justify-between gap-2">
                    <ProjectNameEditor
                      projectId={project.id}
                      name={project.name}
                      href={href}
                      className="line-clamp-2 font-semibold leading-snug"
                    />
                    <CardStatusBadge status={project.card} />
                  </div>
                  {project.card.note ? (
                    <p className="text-muted-foreground text-xs">{project.card.note}</p>
                  ) : null}
                  <CardDescription>
                    {findAgentDefinition(project.agent)?.label ?? project.agent} · {project.taskCount} task
                    {project.taskCount === 1 ? "" : "s"}
                  </CardDescription>
                  {project.published ? (
                    // Above the name link's card-wide overlay, so it opens the app rather than the workspace.
                    <a
                      href={project.published.url}
                      target="_blank"
                      rel="noreferrer"
                      className="relative z-10 flex min-w-0 items-center gap-1.5 text-emerald-700 text-xs hover:underline dark:text-emerald-400"
                    >
                      <GlobeIcon className="size-3.5 shrink-0" aria-hidden />
                      <span className="truncate font-mono">Live: {new URL(project.published.url).host}</span>
                    </a>
                  ) : null}
                </div>
                <CardContent className="flex flex-wrap justify-between gap-x-3 gap-y-1 text-muted-foreground text-xs">
                  <span>Last activity {timeAgo(project.lastActivityAt, now)}</span>
                  <span className="tabular-nums">
                    {compact.format(project.usage.inputTokens + project.usage.outputTokens)} tokens
                    {project.usage.costUsd > 0 ? ` · ${usd.format(project.usage.costUsd)}` : ""}
                  </span>
                </CardContent>
              </Card>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
