import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { withDirLock } from "@/server/fs/dir-lock";
import { ProviderError } from "@/server/integrations/provider-error";
import type {
  CommandResult,
  CommandSpec,
  Sandboxes,
  SandboxHandle,
} from "@/server/integrations/sandboxes/port";
import { asProcessEnv } from "@/server/process-env";
import { toolchains as pinnedToolchains, type ToolchainSpec } from "@/server/toolchains/versions";
import { createTemplateSandbox, type TemplateSandboxInput } from "./template-sandbox";
import { templateFiles, templateVersion } from "./template-version";
import { type BakePlan, type BakeStep, bakedBinPath, defaultBakeSteps } from "./vercel-snapshot-bake";
import {
  readSnapshotRegistry,
  type SnapshotRegistryEntry,
  type SnapshotRegistryToolchain,
  updateSnapshotRegistry,
} from "./vercel-snapshot-registry";

/**
 * Warm start on Vercel: the template installed (`npm ci`) with the pinned agent CLIs baked in, saved once as a
 * Vercel snapshot per (template version, CLI versions, Vercel team/project) and reused by every sandbox after. A
 * changed template or CLI version is a new key, so a new snapshot; the same team's snapshots of older keys are
 * deleted and dropped from the registry. A snapshot Vercel no longer has (expired 30 days after its last use, or
 * deleted) is built again, once.
 */

export type EnsureVercelTemplateSnapshotOptions = {
  /** A Sandboxes with the snapshot capabilities (the Vercel adapter). */
  sandboxes: Sandboxes;
  templateDir: string;
  /** The agent CLIs baked in. Default: every pinned toolchain (src/server/toolchains/versions.ts). */
  toolchains?: readonly ToolchainSpec[];
  /** e.g. `<dataDir>/templates/vercel-snapshots.json`; its directory also holds the build locks. */
  registryPath: string;
  /** The Vercel team and project the snapshots belong to (e.g. `${teamId}/${projectId}`). */
  scope: string;
  onProgress?: (message: string) => void;
  /** What is installed after `npm ci`. Default `defaultBakeSteps` (the pinned `npm install`s). */
  bakeSteps?: (plan: BakePlan) => BakeStep[];
  /** Absolute directory inside the sandbox for the CLIs. Default `<sandbox user's home>/.kiln/toolchains`. */
  toolchainRoot?: string;
  /** Bound on the whole build (the build sandbox's timeout). Default 30 minutes. */
  buildTimeoutMs?: number;
  /** Vercel's expiry of the snapshot, counted from its last use. Default: Vercel's (30 days); 0: never. */
  expirationMs?: number;
  vcpus?: number;
};

export type BakedToolchain = SnapshotRegistryToolchain;

export type VercelTemplateSnapshot = {
  snapshotId: string;
  /** The template version (`templateVersion()`). */
  version: string;
  /** Where each baked CLI is inside a sandbox started from the snapshot. */
  toolchains: BakedToolchain[];
  /** True when this call built it. */
  built: boolean;
};

export class VercelTemplateSnapshotError extends Error {
  override readonly name = "VercelTemplateSnapshotError";
}

const maxTarballBytes = 512 * 1024 * 1024;

type Target = {
  key: string;
  template: string;
  version: string;
  specs: readonly ToolchainSpec[];
  scope: string;
  label: string;
};

async function targetOf(options: EnsureVercelTemplateSnapshotOptions): Promise<Target> {
  if (!options.scope.trim()) {
    throw new VercelTemplateSnapshotError(
      "Vercel template snapshot: scope is empty; pass the Vercel team and project ids.",
    );
  }
  const template = path.basename(path.resolve(options.templateDir));
  const version = await templateVersion(options.templateDir);
  const specs = options.toolchains ?? Object.values(pinnedToolchains);
  const identity = JSON.stringify({
    template,
    version,
    toolchains: specs.map((spec) => `${spec.package}@${spec.version}`).sort(),
    scope: options.scope,
  });
  const key = createHash("sha256").update(identity).digest("hex").slice(0, 24);
  return {
    key,
    template,
    version,
    specs,
    scope: options.scope,
    label: `Building the Vercel snapshot for template ${template} ${version.slice(0, 8)}`,
  };
}

type TakeSnapshot = NonNullable<Sandboxes["snapshot"]>;

function snapshotCapability(sandboxes: Sandboxes): TakeSnapshot {
  const snapshot = sandboxes.snapshot?.bind(sandboxes);
  if (!snapshot) {
    throw new ProviderError(
      sandboxes.kind === "local" ? "local-sandbox" : "vercel",
      "unsupported",
      `${sandboxes.kind} sandboxes cannot take snapshots; use the local template cache (ensureTemplateCache) instead.`,
    );
  }
  return snapshot;
}

function resultOf(entry: SnapshotRegistryEntry, built: boolean): VercelTemplateSnapshot {
  return {
    snapshotId: entry.snapshotId,
    version: entry.templateVersion,
    toolchains: entry.toolchains,
    built,
  };
}

/** A registry entry is only as good as Vercel's answer about its snapshot (eve#3461: a stale id fails every run). */
async function isLive(sandboxes: Sandboxes, snapshotId: string): Promise<boolean> {
  if (!sandboxes.getSnapshot) return true;
  return (await sandboxes.getSnapshot(snapshotId)) !== null;
}

/** The snapshot for the template's current version, building it first when there is none that is still live. */
export async function ensureVercelTemplateSnapshot(
  options: EnsureVercelTemplateSnapshotOptions,
): Promise<VercelTemplateSnapshot> {
  const sandboxes = options.sandboxes;
  const takeSnapshot = snapshotCapability(sandboxes);
  const target = await targetOf(options);
  const recorded = (await readSnapshotRegistry(options.registryPath)).find((e) => e.key === target.key);
  if (recorded && (await isLive(sandboxes, recorded.snapshotId))) return resultOf(recorded, false);

  const buildTimeoutMs = options.buildTimeoutMs ?? 30 * 60_000;
  const lockDir = path.join(
    path.dirname(options.registryPath),
    `.lock-vercel-snapshot-${createHash("sha256").update(`${target.scope}\0${target.template}`).digest("hex").slice(0, 16)}`,
  );
  return withDirLock(
    lockDir,
    async () => {
      // Another process may have built it while this one waited for the lock.
      const current = (await readSnapshotRegistry(options.registryPath)).find((e) => e.key === target.key);
      if (
        current &&
        current.snapshotId !== recorded?.snapshotId &&
        (await isLive(sandboxes, current.snapshotId))
      )
        return resultOf(current, false);
      if (current) {
        options.onProgress?.(
          `The Vercel snapshot for template ${target.template} ${target.version.slice(0, 8)} has expired or was deleted; building it again.`,
        );
      }
      const entry = await build(takeSnapshot, target, options, buildTimeoutMs);
      await record(sandboxes, target, entry, options);
      return resultOf(entry, true);
    },
    { staleMs: buildTimeoutMs + 5 * 60_000, waitMs: buildTimeoutMs + 10 * 60_000, pollMs: 250 },
  );
}

/**
 * Records the new snapshot and retires this team's snapshots of other versions of the template: deleted on Vercel
 * first, then dropped. One whose delete fails stays listed, so the next build retries it rather than leaking it.
 */
async function record(
  sandboxes: Sandboxes,
  target: Target,
  entry: SnapshotRegistryEntry,
  options: EnsureVercelTemplateSnapshotOptions,
): Promise<void> {
  const isSameLine = (e: SnapshotRegistryEntry) => e.scope === target.scope && e.template === target.template;
  const retired = await updateSnapshotRegistry(options.registryPath, (entries) => ({
    entries: [...entries.filter((e) => e.key !== target.key), entry],
    result: entries.filter((e) => isSameLine(e) && e.snapshotId !== entry.snapshotId),
  }));
  const deleted = new Set<string>();
  for (const old of retired) {
    try {
      await sandboxes.deleteSnapshot?.(old.snapshotId);
      deleted.add(old.snapshotId);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      options.onProgress?.(
        `Could not delete the old Vercel snapshot ${old.snapshotId} (${error.message}); it stays listed and is retried next build.`,
      );
    }
  }
  if (deleted.size === 0) return;
  await updateSnapshotRegistry(options.registryPath, (entries) => ({
    entries: entries.filter((e) => !(deleted.has(e.snapshotId) && e.key !== target.key)),
    result: undefined,
  }));
}

async function build(
  takeSnapshot: TakeSnapshot,
  target: Target,
  options: EnsureVercelTemplateSnapshotOptions,
  buildTimeoutMs: number,
): Promise<SnapshotRegistryEntry> {
  const progress = (step: string) => options.onProgress?.(`${target.label}: ${step}…`);
  const started = Date.now();
  progress("uploading the template");
  const sandbox = await options.sandboxes.create({
    name: `kiln-snapshot-${target.version}-${randomBytes(4).toString("hex")}`,
    source: { kind: "tarball", data: await templateTarball(options.templateDir) },
    ports: [],
    env: {},
    timeoutMs: buildTimeoutMs,
    vcpus: options.vcpus,
  });
  let snapshotted = false;
  try {
    progress("installing dependencies (npm ci)");
    await runStep(sandbox, "npm ci", {
      cmd: "npm",
      args: ["ci", "--no-audit", "--no-fund"],
      env: { NEXT_TELEMETRY_DISABLED: "1", npm_config_update_notifier: "false" },
    });
    const toolchainRoot = options.toolchainRoot ?? `${await homeOf(sandbox)}/.kiln/toolchains`;
    const plan: BakePlan = { toolchainRoot, toolchains: target.specs };
    for (const step of (options.bakeSteps ?? defaultBakeSteps)(plan)) {
      progress(step.label);
      const result = await runStep(sandbox, step.label, step.command);
      const output = `${result.stdout}${result.stderr}`;
      if (step.expectOutput && !step.expectOutput.test(output)) {
        throw new VercelTemplateSnapshotError(
          `${target.label} failed: ${step.label} printed ${JSON.stringify(output.trim().slice(0, 200))}, ` +
            "not what was expected. Check the pinned versions in src/server/toolchains/versions.ts.",
        );
      }
    }
    progress("saving the snapshot");
    const snapshot = await takeSnapshot(sandbox, { expirationMs: options.expirationMs });
    snapshotted = true;
    options.onProgress?.(
      `Vercel snapshot for template ${target.template} ${target.version.slice(0, 8)} ready in ${Math.max(1, Math.round((Date.now() - started) / 1000))} s.`,
    );
    return {
      key: target.key,
      scope: target.scope,
      template: target.template,
      templateVersion: target.version,
      toolchains: target.specs.map((spec) => ({
        agent: spec.agent,
        package: spec.package,
        version: spec.version,
        binPath: bakedBinPath(toolchainRoot, spec),
      })),
      snapshotId: snapshot.snapshotId,
      createdAt: new Date().toISOString(),
      ...(snapshot.expiresAt ? { expiresAt: snapshot.expiresAt.toISOString() } : {}),
    };
  } finally {
    // A build sandbox costs money while it runs; the snapshot already stopped it on success.
    if (!snapshotted) await sandbox.stop();
  }
}

async function runStep(sandbox: SandboxHandle, label: string, command: CommandSpec): Promise<CommandResult> {
  const result = await sandbox.run(command);
  if (result.exitCode !== 0) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-8).join("\n");
    throw new VercelTemplateSnapshotError(
      `Building the Vercel template snapshot failed: ${label} exited with ${result.exitCode}. ` +
        `Check that Vercel sandboxes reach the npm registry and that the template's package-lock.json is current.\n${tail}`,
    );
  }
  return result;
}

/** The sandbox user's home (the image decides: vercel-sandbox, ubuntu…). */
async function homeOf(sandbox: SandboxHandle): Promise<string> {
  const result = await runStep(sandbox, "finding the sandbox user's home", {
    cmd: "node",
    args: ["-p", "require('node:os').homedir()"],
  });
  const home = result.stdout.trim();
  if (!/^\/[A-Za-z0-9._/-]+$/.test(home)) {
    throw new VercelTemplateSnapshotError(
      `Building the Vercel template snapshot failed: the sandbox reported ${JSON.stringify(home.slice(0, 100))} as its home; pass toolchainRoot.`,
    );
  }
  return home.replace(/\/+$/, "");
}

/** The template's own files (no node_modules, build output or local state), as a gzipped tarball. */
async function templateTarball(templateDir: string): Promise<Buffer> {
  const files = await templateFiles(templateDir);
  return new Promise((resolve, reject) => {
    const tar = spawn("tar", ["-czf", "-", "-C", templateDir, "--null", "--no-recursion", "-T", "-"], {
      env: asProcessEnv({ PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    tar.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxTarballBytes) tar.kill("SIGKILL");
      else chunks.push(chunk);
    });
    tar.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    tar.once("error", reject);
    tar.once("close", (code) => {
      if (code === 0 && size <= maxTarballBytes) return resolve(Buffer.concat(chunks));
      reject(
        new VercelTemplateSnapshotError(
          size > maxTarballBytes
            ? `The template ${templateDir} is more than ${maxTarballBytes} bytes gzipped; remove large files from it.`
            : `Packing the template ${templateDir} failed (tar exit ${code}): ${stderr.trim().slice(0, 300)}`,
        ),
      );
    });
    tar.stdin.end(files.map((file) => `${file}\0`).join(""));
  });
}

/**
 * A sandbox started from the template snapshot, named for the app. If Vercel dropped the snapshot between the
 * check and the create (410 snapshot_not_found), the snapshot is built again once and the create retried.
 */
export async function createVercelTemplateSandbox(
  options: EnsureVercelTemplateSnapshotOptions,
  input: TemplateSandboxInput,
): Promise<{ sandbox: SandboxHandle; snapshot: VercelTemplateSnapshot }> {
  const snapshot = await ensureVercelTemplateSnapshot(options);
  try {
    return { sandbox: await createTemplateSandbox(options.sandboxes, snapshot, input), snapshot };
  } catch (error) {
    // 410 snapshot_not_found only: a 404 (no such project) would fail the rebuild the same way.
    if (!(error instanceof ProviderError && error.kind === "not_found" && error.status === 410)) throw error;
    await forgetSnapshot(options.registryPath, snapshot.snapshotId);
    const rebuilt = await ensureVercelTemplateSnapshot(options);
    return { sandbox: await createTemplateSandbox(options.sandboxes, rebuilt, input), snapshot: rebuilt };
  }
}

/** Drops a snapshot Vercel says is gone, so the next ensure builds instead of trusting it. */
async function forgetSnapshot(registryPath: string, snapshotId: string): Promise<void> {
  await updateSnapshotRegistry(registryPath, (entries) => ({
    entries: entries.filter((e) => e.snapshotId !== snapshotId),
    result: undefined,
  }));
}
