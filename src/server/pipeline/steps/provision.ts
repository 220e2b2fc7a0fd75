import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { storedAgentKind } from "@/agents/registry";
import type { Database } from "@/server/db/connection";
import {
  findDbBranch,
  findMainDbBranch,
  insertDbBranch,
  insertSandbox,
  updateProjectRow,
  updateRevisionRow,
} from "@/server/db/queries/pipeline";
import type { Project, Revision, Task } from "@/server/db/schema";
import { encryptWebhookSecret, newWebhookSecret } from "@/server/events/webhook-secret";
import { newId } from "@/server/ids";
import {
  decryptBranchConnection,
  encryptBranchConnection,
  tcpEndpointsOf,
} from "@/server/integrations/database-branches/branch-connection";
import type { BranchConnection, DbRoot } from "@/server/integrations/database-branches/port";
import { describeOrigin, type ImportSource } from "@/server/integrations/git-host/import-source";
import type { RepoRef } from "@/server/integrations/git-host/port";
import type { Providers } from "@/server/integrations/registry";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { dbRootOf, importSourceOf, repoRefOf } from "@/server/projects/project-resources";
import { ensureTemplateCache, type TemplateCache } from "@/server/templates/template-cache";
import { createTemplateSandbox, withAppIdentity } from "@/server/templates/template-sandbox";
import { templateFiles } from "@/server/templates/template-version";
import { ensureToolchain, type Toolchain } from "@/server/toolchains/install";

// Provisioning: everything a revision needs before the agent runs, each piece idempotent and recorded as soon as it
// exists, so a retry after a crash picks up where it stopped: the project's repository (first revision) and database
// root, the revision's own database branch forked from its parent revision's, and a warm sandbox holding the code of
// the commit it builds on.

export type ProvisionContext = {
  db: Database;
  /** The platform secret key: branch connections and webhook secrets are stored encrypted with it. */
  key: Buffer;
  providers: Providers;
  templateDir: string;
  templateCacheRoot: string;
  toolchainsRoot: string;
  sandboxTimeoutMs: number;
  /** This app server (src/server/platform): recorded on sandboxes that die with it. */
  serverId?: string;
  onProgress?: (message: string) => void;
};

export type Provisioned = {
  repo: RepoRef;
  baseSha: string;
  dbBranchId: string;
  connection: BranchConnection;
  sandboxRowId: string;
  webhookSecret: string;
  sandbox: SandboxHandle;
  toolchain: Toolchain;
};

function idSuffix(id: string): string {
  return id.slice(id.indexOf("_") + 1);
}

/** The template's files with this project's name in app.json: the repository's first commit. */
async function templateForProject(ctx: ProvisionContext, project: Project): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-repo-template-"));
  for (const file of await templateFiles(ctx.templateDir)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.copyFile(path.join(ctx.templateDir, file), path.join(dir, file));
  }
  const appJson = await fs.readFile(path.join(dir, "app.json"), "utf8");
  await fs.writeFile(path.join(dir, "app.json"), withAppIdentity(appJson, { name: project.name }));
  return dir;
}

/**
 * An imported project's files (docs/import.md): the commit checked when it was created, fetched again platform-side
 * (the operator's GitHub token never enters a sandbox). Fetching again keeps provisioning retryable on any server.
 */
async function importedTreeFor(
  ctx: ProvisionContext,
  project: Project,
  source: ImportSource,
): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-repo-import-"));
  try {
    await ctx.providers.importer.fetch(source, dir, { sha: project.source_sha ?? undefined });
    return dir;
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function ensureRepo(
  ctx: ProvisionContext,
  project: Project,
): Promise<{ repo: RepoRef; initialSha: string | null }> {
  const existing = repoRefOf(project);
  if (existing) return { repo: existing, initialSha: null };
  const source = importSourceOf(project);
  ctx.onProgress?.(
    source
      ? `Importing ${describeOrigin(source.kind, project.source_location ?? "")} into the project's git repository…`
      : "Creating the git repository…",
  );
  const templateDir = source
    ? await importedTreeFor(ctx, project, source)
    : await templateForProject(ctx, project);
  try {
    const { repo, initialSha } = await ctx.providers.git.createRepo({
      name: `${project.slug}-${idSuffix(project.id)}`.slice(0, 100),
      description: project.name,
      templateDir,
    });
    await updateProjectRow(ctx.db, project.id, {
      repo_full_name: repo.fullName,
      repo_url: repo.webUrl,
      default_branch: repo.defaultBranch,
      updated_at: Date.now(),
    });
    return { repo, initialSha };
  } finally {
    await fs.rm(templateDir, { recursive: true, force: true });
  }
}

/** The commit this revision builds on: its parent revision's commit, else the branch head (the template). */
async function baseShaFor(ctx: ProvisionContext, repo: RepoRef, task: Task, parent: Revision | undefined) {
  if (parent?.commit_sha) return parent.commit_sha;
  const head = await ctx.providers.git.resolveRef(repo, repo.defaultBranch);
  if (!head)
    throw new Error(
      `The repository ${repo.fullName} has no ${repo.defaultBranch} branch for task ${task.id}.`,
    );
  return head;
}

async function ensureRoot(ctx: ProvisionContext, project: Project): Promise<DbRoot> {
  const existing = dbRootOf(project);
  if (existing) return existing;
  ctx.onProgress?.("Creating the project's database…");
  const { root, main, connection } = await ctx.providers.database.createRoot({
    name: `p-${idSuffix(project.id)}`,
  });
  const now = Date.now();
  const rowId = newId("dbBranch");
  await insertDbBranch(ctx.db, {
    id: rowId,
    project_id: project.id,
    provider: root.kind,
    external_id: main.id,
    name: main.name,
    parent_branch_id: null,
    status: "active",
    connection_ciphertext: encryptBranchConnection(ctx.key, rowId, connection),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  });
  await updateProjectRow(ctx.db, project.id, {
    db_root_id: root.id,
    db_root_name: root.name,
    updated_at: now,
  });
  return root;
}

async function ensureBranch(
  ctx: ProvisionContext,
  project: Project,
  revision: Revision,
  parent: Revision | undefined,
  root: DbRoot,
): Promise<{ id: string; connection: BranchConnection }> {
  if (revision.db_branch_id) {
    const row = await findDbBranch(ctx.db, revision.db_branch_id);
    if (row?.connection_ciphertext) {
      return { id: row.id, connection: decryptBranchConnection(ctx.key, row.id, row.connection_ciphertext) };
    }
  }
  const parentRow = parent?.db_branch_id
    ? await findDbBranch(ctx.db, parent.db_branch_id)
    : await findMainDbBranch(ctx.db, project.id);
  ctx.onProgress?.(`Branching the database for checkpoint ${revision.ordinal}…`);
  // A restore copies the parent as it was when its checkpoint finished, where the adapter can (TiDB Cloud).
  const atTime =
    revision.kind === "restore" && parent?.finished_at && ctx.providers.database.supportsPointInTime
      ? new Date(parent.finished_at)
      : undefined;
  const { branch, connection } = await ctx.providers.database.createBranch(root, {
    name: `r${revision.ordinal}-${idSuffix(revision.id).slice(0, 8)}`,
    parentId: parentRow?.external_id,
    atTime,
  });
  const now = Date.now();
  const rowId = newId("dbBranch");
  await insertDbBranch(ctx.db, {
    id: rowId,
    project_id: project.id,
    provider: root.kind,
    external_id: branch.id,
    name: branch.name,
    parent_branch_id: parentRow?.id ?? null,
    status: "active",
    connection_ciphertext: encryptBranchConnection(ctx.key, rowId, connection),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  });
  await updateRevisionRow(ctx.db, revision.id, { db_branch_id: rowId, updated_at: now });
  return { id: rowId, connection };
}

/** What decides a working copy's installed dependencies: package.json and package-lock.json, as bytes. */
async function dependencyManifest(dir: string): Promise<string> {
  const read = (file: string) =>
    fs.readFile(path.join(dir, file), "utf8").catch((error: unknown) => {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") return "";
      throw error;
    });
  return `${await read("package.json")}\0${await read("package-lock.json")}`;
}

const installTimeoutSeconds = 900;

/**
 * The sandbox starts with the template's node_modules. A commit whose package.json or lockfile differs (an imported
 * repository, or an app whose agent added a dependency) gets its own: installed inside the sandbox, through its
 * egress proxy to the npm registry, as the agent's own `npm install` would (`npm ci` from a lockfile).
 */
async function installDependencies(
  sandbox: SandboxHandle,
  lockfile: boolean,
  onProgress?: (message: string) => void,
): Promise<void> {
  onProgress?.(
    lockfile ? "Installing the app's dependencies (npm ci)…" : "Installing the app's dependencies…",
  );
  // The template's modules are hard-linked and read-only to the sandbox: removed, not overwritten.
  await sandbox.run({ cmd: "rm", args: ["-rf", "node_modules"] });
  const npm = lockfile ? ["ci"] : ["install"];
  const installed = await sandbox.run({
    cmd: "timeout",
    args: [String(installTimeoutSeconds), "npm", ...npm, "--no-audit", "--no-fund", "--loglevel=error"],
    env: { npm_config_update_notifier: "false", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (installed.exitCode !== 0) {
    const lines = `${installed.stdout}\n${installed.stderr}`.trim().split("\n").slice(-5).join("\n");
    throw new Error(
      installed.exitCode === 124
        ? `Installing the app's dependencies took longer than ${installTimeoutSeconds / 60} minutes.`
        : `Installing the app's dependencies failed (npm ${npm[0]}, exit code ${installed.exitCode}): ${lines}`,
    );
  }
}

/** Makes the sandbox's working copy exactly the files of `sha` (it starts as the template's first commit). */
async function syncToCommit(
  ctx: Pick<ProvisionContext, "providers" | "onProgress">,
  repo: RepoRef,
  sha: string,
  cache: TemplateCache,
  sandbox: SandboxHandle,
) {
  const exported = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-export-"));
  try {
    await ctx.providers.git.exportTree(repo, sha, exported);
    const wanted = await templateFiles(exported);
    const content = await Promise.all(
      wanted.map(async (file) => ({ path: file, content: await fs.readFile(path.join(exported, file)) })),
    );
    for (let i = 0; i < content.length; i += 200) await sandbox.writeFiles(content.slice(i, i + 200));
    const keep = new Set(wanted);
    const stale = (await templateFiles(cache.dir)).filter((file) => !keep.has(file));
    if (stale.length > 0) await sandbox.run({ cmd: "rm", args: ["-f", "--", ...stale] });
    if ((await dependencyManifest(exported)) !== (await dependencyManifest(cache.dir))) {
      await installDependencies(sandbox, keep.has("package-lock.json"), ctx.onProgress);
    }
  } finally {
    await fs.rm(exported, { recursive: true, force: true });
  }
}

/**
 * A warm sandbox for a revision (the template, synced to `syncTo` when given), recorded as running with a webhook
 * secret of its own. Nothing is left behind on failure: the sandbox is stopped and its row, if written, says so.
 */
export async function startRevisionSandbox(
  ctx: Pick<ProvisionContext, "db" | "key" | "providers" | "sandboxTimeoutMs" | "serverId" | "onProgress">,
  input: {
    project: Project;
    revision: Revision;
    cache: TemplateCache;
    repo: RepoRef;
    syncTo: string | null;
    hostPaths: string[];
    readOnlyPaths?: string[];
    /** A MySQL branch's server, which a local sandbox's own network reaches only through a forwarder. */
    tcpEndpoints?: Array<{ host: string; port: number }>;
  },
): Promise<{ sandbox: SandboxHandle; sandboxRowId: string; webhookSecret: string }> {
  const sandbox = await createTemplateSandbox(ctx.providers.sandboxes, input.cache, {
    name: `kiln-${input.revision.id.replace("_", "-")}-${randomBytes(2).toString("hex")}`,
    env: {},
    timeoutMs: ctx.sandboxTimeoutMs,
    hostPaths: input.hostPaths,
    readOnlyPaths: input.readOnlyPaths,
    tcpEndpoints: input.tcpEndpoints,
    app: { name: input.project.name },
  });
  const sandboxRowId = newId("sandbox");
  const webhookSecret = newWebhookSecret();
  try {
    if (input.syncTo) await syncToCommit(ctx, input.repo, input.syncTo, input.cache, sandbox);
    const now = Date.now();
    await insertSandbox(ctx.db, {
      id: sandboxRowId,
      project_id: input.project.id,
      provider: sandbox.kind,
      external_id: sandbox.id,
      status: "running",
      webhook_secret_ciphertext: encryptWebhookSecret(ctx.key, sandboxRowId, webhookSecret),
      preview_url: null,
      last_event_at: null,
      created_at: now,
      updated_at: now,
      stopped_at: null,
      server_id: ctx.providers.sandboxes.diesWithPlatform ? (ctx.serverId ?? null) : null,
    });
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return { sandbox, sandboxRowId, webhookSecret };
}

export async function provisionRevision(
  ctx: ProvisionContext,
  input: { project: Project; task: Task; revision: Revision; parent: Revision | undefined },
): Promise<Provisioned> {
  const { project, task, revision, parent } = input;
  const agent = storedAgentKind(revision.agent);
  // Independent pieces in parallel; each records itself as soon as it exists.
  const [{ repo }, root, cache, toolchain] = await Promise.all([
    ensureRepo(ctx, project),
    ensureRoot(ctx, project),
    ensureTemplateCache({
      templateDir: ctx.templateDir,
      cacheRoot: ctx.templateCacheRoot,
      onProgress: ctx.onProgress,
    }),
    ensureToolchain({ cacheRoot: ctx.toolchainsRoot, agent, onProgress: ctx.onProgress }),
  ]);
  const [baseSha, branch] = await Promise.all([
    baseShaFor(ctx, repo, task, parent),
    ensureBranch(ctx, project, revision, parent, root),
  ]);

  ctx.onProgress?.("Starting the sandbox…");
  const { sandbox, sandboxRowId, webhookSecret } = await startRevisionSandbox(ctx, {
    project,
    revision,
    cache,
    repo,
    // An imported project's first checkpoint starts from its imported commit, not the template.
    syncTo: parent?.commit_sha || project.source_kind ? baseSha : null,
    hostPaths: branch.connection.hostPaths,
    readOnlyPaths: [toolchain.dir],
    tcpEndpoints: tcpEndpointsOf(branch.connection.databaseUrl),
  });
  try {
    await updateRevisionRow(ctx.db, revision.id, {
      sandbox_id: sandboxRowId,
      base_sha: baseSha,
      updated_at: Date.now(),
    });
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return {
    repo,
    baseSha,
    dbBranchId: branch.id,
    connection: branch.connection,
    sandboxRowId,
    webhookSecret,
    sandbox,
    toolchain,
  };
}
