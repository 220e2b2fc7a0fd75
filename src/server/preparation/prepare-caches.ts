import { type AgentKind, agentKinds, defaultAgentKind } from "@/agents/registry";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import { ensureToolchain } from "@/server/toolchains/install";
import { type PreparedThing, writePreparationRecord } from "./preparation-record";

// Kiln's boot preparation: the app template's dependencies and the agents' CLIs installed into the data dir's caches
// before the first build needs them, so a fresh install's first project does not wait minutes for npm. The installs
// are the build's own (ensureTemplateCache, ensureToolchain): a build that starts meanwhile joins the install in
// flight (same process) or waits on its lock (another server on the data dir), never starting a second one. A
// failure is logged and recorded for the dashboard; the build that needs the thing tries again, as it always did.

export type CachePaths = {
  templateDir: string;
  templateCacheRoot: string;
  toolchainsRoot: string;
  /** Where the preparation's per-thing records live (preparation-record.ts). */
  preparationDir: string;
};

export type PrepareCachesOptions = CachePaths & {
  /**
   * The agents whose CLIs to prepare, the default first: it installs beside the template (the two together take
   * about as long as the template alone); the others after both, so they never slow what the first project needs.
   */
  agents: readonly AgentKind[];
  log?: (message: string) => void;
};

export type PreparationOutcome = { prepared: PreparedThing[]; failed: PreparedThing[] };

const maxErrorLength = 600;

/** Every agent, the default first: the one a first project most likely runs. */
export const preparationOrder: readonly AgentKind[] = [
  defaultAgentKind,
  ...agentKinds.filter((kind) => kind !== defaultAgentKind),
];

export async function prepareCaches(options: PrepareCachesOptions): Promise<PreparationOutcome> {
  const log = options.log ?? ((_message: string) => undefined);
  const outcome: PreparationOutcome = { prepared: [], failed: [] };
  const [first, ...rest] = options.agents;

  /** Records news for the dashboard; a record that cannot be written is logged, never stops the preparation. */
  const record = async (
    thing: PreparedThing,
    state: "waiting" | "preparing" | "failed" | "ready",
    error?: string,
  ) => {
    try {
      await writePreparationRecord(options.preparationDir, thing, { state, error });
    } catch (failure) {
      if (!(failure instanceof Error)) throw failure;
      log(`could not record the preparation of ${thing}: ${failure.message}`);
    }
  };

  const prepare = async (thing: PreparedThing, work: () => Promise<unknown>) => {
    await record(thing, "preparing");
    try {
      await work();
      await record(thing, "ready");
      outcome.prepared.push(thing);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      log(`preparing ${thing} failed (the first build that needs it tries again): ${error.message}`);
      await record(thing, "failed", error.message.slice(0, maxErrorLength));
      outcome.failed.push(thing);
    }
  };

  const template = () =>
    prepare("template", () =>
      ensureTemplateCache({
        templateDir: options.templateDir,
        cacheRoot: options.templateCacheRoot,
        onProgress: log,
      }),
    );
  const agent = (kind: AgentKind) =>
    prepare(kind, () => ensureToolchain({ cacheRoot: options.toolchainsRoot, agent: kind, onProgress: log }));

  for (const kind of rest) await record(kind, "waiting");
  await Promise.all([template(), first ? agent(first) : undefined]);
  for (const kind of rest) await agent(kind);
  return outcome;
}
