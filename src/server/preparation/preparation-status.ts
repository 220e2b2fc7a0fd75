import os from "node:os";
import { type AgentKind, agentDefinition } from "@/agents/registry";
import { processAlive } from "@/server/fs/dir-lock";
import { templateCacheState } from "@/server/templates/template-cache";
import { findToolchain, isToolchainInstalling } from "@/server/toolchains/install";
import { type PreparationRecord, type PreparedThing, readPreparationRecord } from "./preparation-record";
import type { PreparationItem, PreparationStatus } from "./preparation-types";
import type { CachePaths } from "./prepare-caches";

// The dashboard's view of the boot preparation, readable by any app server on the data dir. What is on disk decides
// first (a cache's completion marker: ready; an install's lock held by a live process: preparing, whoever started
// it); the preparer's records add what the disk cannot say: queued behind another install, or failed and why.

/** How long a record of a writer on another host (which this one cannot ask) still speaks for the present. */
const foreignRecordMs = 30 * 60_000;

/** Whether the process that wrote a record is still there (so "waiting"/"preparing" is not news from the dead). */
function writerAlive(record: PreparationRecord, now: number): boolean {
  const [host, pidText] = record.writer.split(":");
  const pid = Number(pidText);
  if (host !== os.hostname()) return now - record.since < foreignRecordMs;
  return Number.isInteger(pid) && processAlive(pid);
}

function labelOf(thing: PreparedThing): string {
  return thing === "template" ? "the app template's dependencies" : `the ${agentDefinition(thing).label} CLI`;
}

async function diskState(
  paths: CachePaths,
  thing: PreparedThing,
): Promise<"ready" | "installing" | "missing"> {
  if (thing === "template") return templateCacheState(paths.templateDir, paths.templateCacheRoot);
  if (await findToolchain(paths.toolchainsRoot, thing)) return "ready";
  return (await isToolchainInstalling(paths.toolchainsRoot, thing)) ? "installing" : "missing";
}

async function itemOf(paths: CachePaths, thing: PreparedThing, now: number): Promise<PreparationItem> {
  const label = labelOf(thing);
  const [disk, record] = await Promise.all([
    diskState(paths, thing),
    readPreparationRecord(paths.preparationDir, thing),
  ]);
  if (disk === "ready") return { thing, label, state: "ready" };
  if (disk === "installing") {
    return {
      thing,
      label,
      state: "preparing",
      since: record?.state === "preparing" ? record.since : undefined,
    };
  }
  if (record?.state === "failed")
    return { thing, label, state: "failed", error: record.error, since: record.since };
  // "preparing" without a held lock: the preparer is between steps (the lock comes a moment after the record).
  if (record && (record.state === "waiting" || record.state === "preparing") && writerAlive(record, now)) {
    return { thing, label, state: record.state, since: record.since };
  }
  return { thing, label, state: "missing" };
}

/** The template's dependencies and each agent's CLI, as the dashboard shows them. */
export async function readPreparationStatus(
  paths: CachePaths,
  agents: readonly AgentKind[],
  now = Date.now(),
): Promise<PreparationStatus> {
  const things: PreparedThing[] = ["template", ...agents];
  return { items: await Promise.all(things.map((thing) => itemOf(paths, thing, now))) };
}
