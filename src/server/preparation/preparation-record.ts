import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { AgentKind } from "@/agents/registry";

// What the server preparing the caches says about each thing it prepares, one small file per thing in
// `<dataDir>/preparation/`, so every app server sharing the data dir reads the same status and two preparers never
// overwrite each other's news about another thing. Written whole through a rename: a reader never sees half a file.
// What is on disk (a cache's completion marker, an install's lock) outranks these records when the status is read.

const recordSchema = z.object({
  state: z.enum(["waiting", "preparing", "failed", "ready"]),
  error: z.string().optional(),
  since: z.number(),
  /** `<host>:<pid>` of the writer: a record of a process that is gone says nothing about the present. */
  writer: z.string(),
});

export type PreparationRecord = z.infer<typeof recordSchema>;

/** The app template's dependencies, or one agent's CLI. */
export type PreparedThing = "template" | AgentKind;

function recordFile(dir: string, thing: PreparedThing): string {
  return path.join(dir, `${thing}.json`);
}

export function thisWriter(): string {
  return `${os.hostname()}:${process.pid}`;
}

export async function writePreparationRecord(
  dir: string,
  thing: PreparedThing,
  record: Omit<PreparationRecord, "writer" | "since">,
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const file = recordFile(dir, thing);
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  const body: PreparationRecord = { ...record, since: Date.now(), writer: thisWriter() };
  await fs.writeFile(temp, `${JSON.stringify(body)}\n`);
  await fs.rename(temp, file);
}

/** The record of `thing`, or undefined when there is none (or it is unreadable: it is only news). */
export async function readPreparationRecord(
  dir: string,
  thing: PreparedThing,
): Promise<PreparationRecord | undefined> {
  let raw: string;
  try {
    raw = await fs.readFile(recordFile(dir, thing), "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR"))
      return undefined;
    throw error;
  }
  try {
    return recordSchema.safeParse(JSON.parse(raw)).data;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
