import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { errnoOf, localSandboxError } from "./local-errors";

/**
 * What lets a new platform process reattach to a local sandbox: `<root>/<id>/sandbox.json`. The env values the
 * caller gave the sandbox live next to it in `env.json` (mode 0600), outside the sandbox's view: they are only
 * what the sandbox itself may see, but commands run after a platform restart need them again.
 */

const idPattern = /^lsb_[0-9a-f]{20}$/;

export function newSandboxId(): string {
  return `lsb_${randomBytes(10).toString("hex")}`;
}

/** Ids come back from the database and URLs; only ours may become a path under the root. */
export function isLocalSandboxId(id: string): boolean {
  return idPattern.test(id);
}

const metadataSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(idPattern),
  name: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  stoppedAt: z.number().nullable(),
  /** Declared port → host port. */
  ports: z.record(z.string(), z.number().int()),
  envKeys: z.array(z.string()),
  hostPaths: z.array(z.string()),
  readOnlyPaths: z.array(z.string()).default([]),
  /** cgroup v1 directories the sandbox's processes join (removed on stop). */
  cgroups: z.array(z.string()),
  /** Present when the sandbox has a network namespace of its own (local-network.ts); absent: the host's. */
  network: z
    .object({
      tcp: z.array(z.object({ host: z.string(), port: z.number().int() })),
      /** The door (local-egress-proxy.ts): the platform URL it forwards to and the one webhook it passes. */
      door: z.object({ target: z.string(), webhookId: z.string() }).optional(),
    })
    .optional(),
});

export type LocalSandboxMetadata = z.infer<typeof metadataSchema>;

const envSchema = z.record(z.string(), z.string());

export type SandboxDirs = { dir: string; work: string; home: string; tmp: string };

export function sandboxDirs(root: string, id: string): SandboxDirs {
  const dir = path.join(root, id);
  return { dir, work: path.join(dir, "work"), home: path.join(dir, "home"), tmp: path.join(dir, "tmp") };
}

/** Write to a temp file then rename, so a crash never leaves a half-written file for `get()` to trip on. */
export async function writeFileAtomic(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await fs.writeFile(temp, content, { mode, flag: "wx" });
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export async function writeMetadata(dirs: SandboxDirs, metadata: LocalSandboxMetadata): Promise<void> {
  await writeFileAtomic(path.join(dirs.dir, "sandbox.json"), `${JSON.stringify(metadata, null, 2)}\n`);
}

export async function writeEnv(dirs: SandboxDirs, env: Record<string, string>): Promise<void> {
  await writeFileAtomic(path.join(dirs.dir, "env.json"), JSON.stringify(env), 0o600);
}

/** undefined when the sandbox directory or its metadata is gone. */
export async function readMetadata(dirs: SandboxDirs): Promise<LocalSandboxMetadata | undefined> {
  const raw = await readOptional(path.join(dirs.dir, "sandbox.json"));
  if (raw === undefined) return undefined;
  const parsed = metadataSchema.safeParse(parseJson(raw));
  if (!parsed.success) {
    throw localSandboxError(
      `reading ${path.join(dirs.dir, "sandbox.json")}`,
      new Error("unexpected content"),
    );
  }
  return parsed.data;
}

export async function readEnv(dirs: SandboxDirs): Promise<Record<string, string>> {
  const raw = await readOptional(path.join(dirs.dir, "env.json"));
  if (raw === undefined) return {};
  const parsed = envSchema.safeParse(parseJson(raw));
  if (!parsed.success) {
    throw localSandboxError(`reading ${path.join(dirs.dir, "env.json")}`, new Error("unexpected content"));
  }
  return parsed.data;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw localSandboxError(`reading ${file}`, error);
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
