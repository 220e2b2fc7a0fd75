import "server-only";
import { env } from "@/env";
import { getDb } from "@/server/context";
import type { Project } from "@/server/db/schema";
import type { Providers } from "@/server/integrations/registry";
import type { RunnerEventDeps } from "./advance-from-runner";
import { type PlatformWiring, platformWiring } from "./platform-wiring";
import type { PipelineDeps } from "./run-revision";

// The pipeline wired to this server's environment and database (see platform-wiring.ts).

let wiring: Promise<PlatformWiring> | undefined;

function serverWiring(): Promise<PlatformWiring> {
  wiring ??= getDb()
    .then((db) => platformWiring(env, db))
    .catch((error: unknown) => {
      // A database that was briefly unreachable must not be remembered: the next call tries again.
      wiring = undefined;
      throw error;
    });
  return wiring;
}

export async function pipelineDeps(project: Project): Promise<PipelineDeps> {
  return (await serverWiring()).pipelineDeps(project);
}

export async function runnerEventDeps(): Promise<RunnerEventDeps> {
  return (await serverWiring()).runnerEventDeps();
}

/** A project's adapters, as the pipeline that created its resources sees them. */
export async function projectProviders(project: Project): Promise<Providers> {
  return (await serverWiring()).providersFor(project);
}
