import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { withDirLock } from "@/server/fs/dir-lock";

// Which Vercel snapshot holds which template version (with which agent CLIs), per Vercel team/project. A JSON file
// under the data dir, replaced atomically (write a temp file, rename), so a reader never sees half of one; every
// read-modify-write holds a short directory lock, so two platform processes never lose each other's entries.

const toolchainSchema = z.object({
  agent: z.string(),
  package: z.string(),
  version: z.string(),
  /** Absolute path of the CLI inside a sandbox started from the snapshot. */
  binPath: z.string(),
});

const entrySchema = z.object({
  key: z.string(),
  /** The Vercel team/project the snapshot belongs to: ids are meaningless to another team. */
  scope: z.string(),
  template: z.string(),
  templateVersion: z.string(),
  toolchains: z.array(toolchainSchema),
  snapshotId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
});

const registrySchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

export type SnapshotRegistryEntry = z.infer<typeof entrySchema>;
export type SnapshotRegistryToolchain = z.infer<typeof toolchainSchema>;

export class SnapshotRegistryError extends Error {
  override readonly name = "SnapshotRegistryError";
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Every entry; an absent file is an empty registry. */
export async function readSnapshotRegistry(registryPath: string): Promise<SnapshotRegistryEntry[]> {
  let raw: string;
  try {
    raw = await fs.readFile(registryPath, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw new SnapshotRegistryError(
      `Reading the Vercel snapshot registry ${registryPath} failed (${errnoOf(error) ?? String(error)}); make it readable by the platform's user.`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    json = undefined;
  }
  const parsed = registrySchema.safeParse(json);
  if (!parsed.success) {
    // Not a guess: deleting it only costs one rebuild per template, while overwriting it silently could lose
    // track of snapshots that are still billed.
    throw new SnapshotRegistryError(
      `The Vercel snapshot registry ${registryPath} is not valid; delete the file (the snapshots it listed can be removed in the Vercel dashboard) and retry.`,
    );
  }
  return parsed.data.entries;
}

/** Applies `change` to the entries under the registry's lock and replaces the file atomically. */
export async function updateSnapshotRegistry<T>(
  registryPath: string,
  change: (entries: SnapshotRegistryEntry[]) => { entries: SnapshotRegistryEntry[]; result: T },
): Promise<T> {
  const dir = path.dirname(registryPath);
  await fs.mkdir(dir, { recursive: true });
  return withDirLock(
    `${registryPath}.lock`,
    async () => {
      const { entries, result } = change(await readSnapshotRegistry(registryPath));
      const temp = path.join(dir, `.${path.basename(registryPath)}.${randomBytes(4).toString("hex")}.tmp`);
      try {
        await fs.writeFile(temp, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`, { mode: 0o600 });
        await fs.rename(temp, registryPath);
      } finally {
        await fs.rm(temp, { force: true });
      }
      return result;
    },
    { staleMs: 60_000, waitMs: 120_000, pollMs: 50 },
  );
}
