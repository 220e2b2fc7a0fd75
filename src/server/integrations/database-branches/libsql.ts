import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { Kysely } from "kysely";
import { z } from "zod";
import { ProviderError } from "../provider-error";
import { type InspectedSchema, inspectOpenedBranch, readOpenedTableRows } from "./inspect-branch";
import { copyDatabase, fileUrl, isMissing, removeDatabase, withDirectoryLock } from "./libsql-files";
import type { BranchConnection, CreateBranchInput, DatabaseBranches, DbBranch, DbRoot } from "./port";
import { assertName, mainBranchName, mainBranchRefused, namePattern, pointInTimeUnsupported } from "./shared";

/**
 * DatabaseBranches on embedded libSQL/SQLite files. A root is the directory `<root>/<name>/`; each branch is the
 * file `<branchId>.db` in it (branch id = branch name; "main" is the root's first branch). A branch is a
 * consistent copy of its parent's file (see libsql-files.ts). Parents are remembered in `kiln-branches.json`,
 * written atomically; an entry is written only after its file is in place, so the manifest is the commit point.
 *
 * The app gets `file:/abs/<root>/<name>/<branch>.db` and the root directory as a host path (SQLite needs to create
 * its -wal/-journal files next to the database).
 */

export type LibsqlDatabaseBranchesOptions = {
  /** Directory holding one sub-directory per root, e.g. `<dataDir>/databases`. */
  root: string;
};

const manifestName = "kiln-branches.json";

const manifestSchema = z.object({
  version: z.literal(1),
  branches: z.record(
    z.string().regex(namePattern),
    z.object({
      name: z.string(),
      // Re-checked on every read: the directory is writable from sandboxes, and ids become file names.
      parentId: z.string().regex(namePattern).nullable(),
      createdAt: z.string(),
    }),
  ),
});
type Manifest = z.infer<typeof manifestSchema>;

export function createLibsqlDatabaseBranches(options: LibsqlDatabaseBranchesOptions): DatabaseBranches {
  const base = path.resolve(options.root);
  if (/[?#%]/.test(base)) {
    // These characters would change the meaning of the file: URL handed to the app.
    throw new ProviderError(
      "libsql",
      "invalid",
      `The database directory ${base} contains ?, # or %: choose a data directory without them.`,
    );
  }

  const rootDir = (rootId: string) => {
    const dir = path.join(base, assertName("libsql", "root", rootId));
    // Belt and braces: the name rule already forbids separators and dots.
    if (path.dirname(dir) !== base)
      throw new ProviderError("libsql", "invalid", "Root path escapes the root.");
    return dir;
  };
  const branchFile = (dir: string, branchId: string) => path.join(dir, `${branchId}.db`);
  const connectionFor = (dir: string, branchId: string): BranchConnection => ({
    databaseUrl: fileUrl(branchFile(dir, branchId)),
    hostPaths: [dir],
  });
  const toBranch = (id: string, entry: Manifest["branches"][string]): DbBranch => ({
    id,
    name: entry.name,
    parentId: entry.parentId,
    state: "active",
  });
  const checkBranchId = (branchId: string) => assertName("libsql", "branch", branchId);

  async function readManifest(dir: string): Promise<Manifest | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(dir, manifestName), "utf8");
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw corruptManifest(dir, error);
    }
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) throw corruptManifest(dir, parsed.error);
    return parsed.data;
  }

  async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
    const file = path.join(dir, manifestName);
    const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`, { flush: true });
      await rename(temp, file);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The manifest entry of a branch whose file exists, or undefined. */
  async function findBranch(dir: string, manifest: Manifest | undefined, branchId: string) {
    const entry = manifest?.branches[branchId];
    if (!entry || !(await exists(branchFile(dir, branchId)))) return undefined;
    return entry;
  }

  async function requireRoot(root: DbRoot): Promise<{ dir: string; manifest: Manifest }> {
    const dir = rootDir(root.id);
    const manifest = await readManifest(dir);
    if (!manifest) throw rootMissing(dir);
    return { dir, manifest };
  }

  return {
    kind: "libsql",
    supportsPointInTime: false,

    createRoot: (input) =>
      wrap("create the database root", async () => {
        const dir = rootDir(input.name);
        await mkdir(dir, { recursive: true });
        return withDirectoryLock(dir, async () => {
          const manifest = (await readManifest(dir)) ?? { version: 1 as const, branches: {} };
          const file = branchFile(dir, mainBranchName);
          try {
            // An empty file is a valid, empty SQLite database.
            await writeFile(file, "", { flag: "wx" });
          } catch (error) {
            if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
          }
          const main = manifest.branches[mainBranchName] ?? {
            name: mainBranchName,
            parentId: null,
            createdAt: new Date().toISOString(),
          };
          if (!manifest.branches[mainBranchName]) {
            manifest.branches[mainBranchName] = main;
            await writeManifest(dir, manifest);
          }
          return {
            root: { kind: "libsql" as const, id: input.name, name: input.name },
            main: toBranch(mainBranchName, main),
            connection: connectionFor(dir, mainBranchName),
          };
        });
      }),

    deleteRoot: (root) =>
      wrap("delete the database root", async () => {
        await rm(rootDir(root.id), { recursive: true, force: true });
      }),

    createBranch: (root, input: CreateBranchInput) =>
      wrap("create the branch", async () => {
        if (input.atTime) throw pointInTimeUnsupported("libsql");
        const branchId = assertName("libsql", "branch", input.name);
        const parentId = checkBranchId(input.parentId ?? mainBranchName);
        const { dir } = await requireRoot(root);
        return withDirectoryLock(dir, async () => {
          const manifest = (await readManifest(dir)) ?? { version: 1 as const, branches: {} };
          const existing = await findBranch(dir, manifest, branchId);
          if (existing) {
            if (existing.parentId !== parentId) {
              throw new ProviderError(
                "libsql",
                "conflict",
                `Branch ${branchId} already exists with parent ${existing.parentId ?? "(none)"}, not ${parentId}: choose another name or delete it first.`,
              );
            }
            // Idempotent by name: the same request again returns the branch it made.
            return { branch: toBranch(branchId, existing), connection: connectionFor(dir, branchId) };
          }
          if (!(await findBranch(dir, manifest, parentId))) throw parentMissing(parentId);
          await copyDatabase(branchFile(dir, parentId), branchFile(dir, branchId));
          const entry = { name: branchId, parentId, createdAt: new Date().toISOString() };
          manifest.branches[branchId] = entry;
          await writeManifest(dir, manifest);
          return { branch: toBranch(branchId, entry), connection: connectionFor(dir, branchId) };
        });
      }),

    getBranch: (root, branchId) =>
      wrap("read the branch", async () => {
        checkBranchId(branchId);
        const dir = rootDir(root.id);
        const entry = await findBranch(dir, await readManifest(dir), branchId);
        return entry ? toBranch(branchId, entry) : null;
      }),

    listBranches: (root) =>
      wrap("list branches", async () => {
        const { dir, manifest } = await requireRoot(root);
        const branches: Array<DbBranch & { createdAt: string }> = [];
        for (const [id, entry] of Object.entries(manifest.branches)) {
          if (await exists(branchFile(dir, id)))
            branches.push({ ...toBranch(id, entry), createdAt: entry.createdAt });
        }
        branches.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
        return branches.map(({ createdAt: _createdAt, ...branch }) => branch);
      }),

    connect: (root, branchId) =>
      wrap("connect to the branch", async () => {
        checkBranchId(branchId);
        const { dir, manifest } = await requireRoot(root);
        if (!(await findBranch(dir, manifest, branchId))) throw branchMissing(branchId);
        // A file has no credentials to rotate: the URL is the same every time.
        return connectionFor(dir, branchId);
      }),

    resetBranch: (root, branchId) =>
      wrap("reset the branch", async () => {
        checkBranchId(branchId);
        const { dir } = await requireRoot(root);
        await withDirectoryLock(dir, async () => {
          const manifest = await readManifest(dir);
          const entry = await findBranch(dir, manifest, branchId);
          if (!entry) throw branchMissing(branchId);
          if (entry.parentId === null) throw mainBranchRefused("libsql", "reset");
          if (!(await findBranch(dir, manifest, entry.parentId))) throw parentMissing(entry.parentId);
          // Anything holding the old file open keeps reading the old inode; stop the app before a reset.
          await copyDatabase(branchFile(dir, entry.parentId), branchFile(dir, branchId));
        });
      }),

    deleteBranch: (root, branchId) =>
      wrap("delete the branch", async () => {
        checkBranchId(branchId);
        if (branchId === mainBranchName) throw mainBranchRefused("libsql", "delete");
        const dir = rootDir(root.id);
        if (!(await exists(dir))) return;
        await withDirectoryLock(dir, async () => {
          const manifest = await readManifest(dir);
          // The manifest entry goes first: a crash in between leaves a stray file, never an entry without one.
          if (manifest?.branches[branchId]) {
            delete manifest.branches[branchId];
            await writeManifest(dir, manifest);
          }
          await removeDatabase(branchFile(dir, branchId));
        });
      }),

    async inspectBranch(connection, inspectOptions) {
      return inspectOpenedBranch("libsql", await openBranchFile(connection), [], inspectOptions);
    },

    async readTableRows(connection, request, readOptions) {
      return readOpenedTableRows("libsql", await openBranchFile(connection), [], request, readOptions);
    },
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function rootMissing(dir: string): ProviderError {
  return new ProviderError(
    "libsql",
    "not_found",
    `The database root ${dir} does not exist (or has no ${manifestName}): create the root first.`,
  );
}

function branchMissing(branchId: string): ProviderError {
  return new ProviderError("libsql", "not_found", `Branch ${branchId} does not exist in this database root.`);
}

function parentMissing(parentId: string): ProviderError {
  return new ProviderError(
    "libsql",
    "not_found",
    `Parent branch ${parentId} does not exist in this database root: branch from an existing branch.`,
  );
}

function corruptManifest(dir: string, cause: unknown): ProviderError {
  return new ProviderError(
    "libsql",
    "internal",
    `${path.join(dir, manifestName)} is not a valid branch manifest: restore it from a backup or recreate the root.`,
    { cause },
  );
}

/** Every failure leaves as a ProviderError with what was being done and what to do about it. */
async function wrap<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw classify(action, error);
  }
}

function classify(action: string, error: unknown): ProviderError {
  const code = error instanceof Error && "code" in error ? String(error.code) : "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "ENOENT") return new ProviderError("libsql", "not_found", `Could not ${action}: ${detail}`);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new ProviderError(
      "libsql",
      "forbidden",
      `Could not ${action}: ${detail}. Give the Kiln process write access to its data directory.`,
      { cause: error },
    );
  }
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ProviderError("libsql", "unavailable", `Could not ${action}: the disk is full. Free space.`, {
      cause: error,
    });
  }
  if (/BUSY|LOCKED/.test(code)) {
    return new ProviderError(
      "libsql",
      "timeout",
      `Could not ${action}: the parent database stayed locked by another writer for ~5 s. Retry when its app is idle.`,
      { cause: error },
    );
  }
  return new ProviderError("libsql", "internal", `Could not ${action}: ${detail}`, { cause: error });
}

/** A branch's file, opened read-side for the DATABASE tab (inspection and rows). */
async function openBranchFile(connection: BranchConnection): Promise<Kysely<InspectedSchema>> {
  const { databaseUrl } = connection;
  if (!databaseUrl.startsWith("file:")) {
    throw new ProviderError("libsql", "invalid", "The branch's database URL is not a libSQL file: URL.");
  }
  // Connecting to a file that is gone would recreate it empty.
  const file = databaseUrl.slice("file:".length).split("?")[0] ?? "";
  if (!(await exists(file))) {
    throw new ProviderError(
      "libsql",
      "not_found",
      "its file is missing on the server (was the data directory moved?)",
    );
  }
  // `timeout` is SQLite's busy timeout: a read that meets the app's write lock waits this long, then fails.
  return new Kysely<InspectedSchema>({ dialect: new LibsqlDialect({ url: databaseUrl, timeout: 5_000 }) });
}
