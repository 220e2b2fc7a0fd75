import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { isLockHeld, withDirLock } from "@/server/fs/dir-lock";
import { asProcessEnv } from "@/server/process-env";
import { templateFiles, templateVersion } from "./template-version";

const run = promisify(execFile);

// Warm start: a template's dependencies are installed once per template version into
// `<cacheRoot>/<name>-<version>/`. Local sandboxes copy the sources and hard-link node_modules from there, so a new
// sandbox has an installed app in milliseconds instead of an `npm ci` of a minute or more.

export type TemplateCache = { name: string; version: string; dir: string };

export type EnsureTemplateCacheOptions = {
  templateDir: string;
  cacheRoot: string;
  onProgress?: (message: string) => void;
  /** Bound on `npm ci`. Default 15 minutes. */
  installTimeoutMs?: number;
};

export class TemplateCacheError extends Error {
  override readonly name = "TemplateCacheError";
}

function readyMarker(cacheRoot: string, name: string, version: string): string {
  // Beside the tree, not inside it: nothing of Kiln's may end up in an app's working copy.
  return path.join(cacheRoot, `${name}-${version}.ready`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}

/** npm sees only what it needs: no platform secret reaches install scripts of the template's dependencies. */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {
    NEXT_TELEMETRY_DISABLED: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  for (const key of ["PATH", "HOME", "LANG", "TMPDIR", "npm_config_cache", "npm_config_registry"]) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return env;
}

async function install(templateDir: string, target: string, timeoutMs: number): Promise<void> {
  await fs.mkdir(target, { recursive: true });
  for (const file of await templateFiles(templateDir)) {
    await fs.mkdir(path.dirname(path.join(target, file)), { recursive: true });
    await fs.copyFile(path.join(templateDir, file), path.join(target, file));
  }
  try {
    await run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: target,
      env: asProcessEnv(npmEnv()),
      timeout: timeoutMs,
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = error instanceof Error && "stderr" in error ? String(error.stderr) : "";
    const tail = stderr.trim().split("\n").slice(-8).join("\n");
    throw new TemplateCacheError(
      `Installing the template's dependencies failed. Check that this server reaches the npm registry.\n${tail}`,
      { cause: error },
    );
  }
  // Sandboxes share these files by hard link (one inode): writable by the platform's uid only, so a sandbox
  // running as its own uid can replace its links but never change the cache (see linkTree).
  await run("chmod", ["-R", "go-w", "--", target], { timeout: timeoutMs });
}

function lockDir(cacheRoot: string, name: string, version: string): string {
  return path.join(cacheRoot, `.lock-${name}-${version}`);
}

/** Where the template's current version stands in `cacheRoot`: installed, being installed by a live process, or neither. */
export async function templateCacheState(
  templateDir: string,
  cacheRoot: string,
): Promise<"ready" | "installing" | "missing"> {
  const name = path.basename(templateDir);
  const version = await templateVersion(templateDir);
  if (await exists(readyMarker(cacheRoot, name, version))) return "ready";
  return (await isLockHeld(lockDir(cacheRoot, name, version))) ? "installing" : "missing";
}

/**
 * Installs in flight in this process, shared by every bundled copy of this module (Next bundles instrumentation and
 * routes apart): a build joins the boot preparation's install instead of polling its lock. Other processes wait on
 * the directory lock.
 */
const INSTALLS = Symbol.for("kiln.templateInstalls");
const inFlight: Map<string, Promise<TemplateCache>> = (() => {
  const existing: unknown = Reflect.get(globalThis, INSTALLS);
  if (existing instanceof Map) return existing;
  const created = new Map<string, Promise<TemplateCache>>();
  Reflect.set(globalThis, INSTALLS, created);
  return created;
})();

/** The installed cache for the template's current version, installing it first if needed (once, under a lock). */
export async function ensureTemplateCache(options: EnsureTemplateCacheOptions): Promise<TemplateCache> {
  const name = path.basename(options.templateDir);
  const version = await templateVersion(options.templateDir);
  const cache = { name, version, dir: path.join(options.cacheRoot, `${name}-${version}`) };
  if (await exists(readyMarker(options.cacheRoot, name, version))) return cache;
  const key = path.resolve(cache.dir);
  const joined = inFlight.get(key);
  if (joined) {
    options.onProgress?.(`Waiting for the ${name} template's install already under way…`);
    try {
      return await joined;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      // The install this call waited for (the boot preparation's, say) failed; the caller needs the template, so it
      // tries once itself, as it would have with nobody to wait for.
      options.onProgress?.(`That install failed; installing the ${name} template again…`);
    }
  }
  // Another caller that waited may have started the second try already.
  const retrying = inFlight.get(key);
  if (retrying) return retrying;
  const pending = installLocked(options, cache).finally(() => inFlight.delete(key));
  inFlight.set(key, pending);
  return pending;
}

async function installLocked(
  options: EnsureTemplateCacheOptions,
  cache: TemplateCache,
): Promise<TemplateCache> {
  const { name, version } = cache;
  const marker = readyMarker(options.cacheRoot, name, version);
  return withDirLock(lockDir(options.cacheRoot, name, version), async () => {
    if (await exists(marker)) return cache;
    const started = Date.now();
    options.onProgress?.(
      `Installing the ${name} template (version ${version}); this happens once per version…`,
    );
    const temp = path.join(options.cacheRoot, `.tmp-${name}-${version}-${randomBytes(4).toString("hex")}`);
    try {
      await install(options.templateDir, temp, options.installTimeoutMs ?? 15 * 60_000);
      await fs.rm(cache.dir, { recursive: true, force: true });
      await fs.rename(temp, cache.dir);
      await fs.writeFile(marker, JSON.stringify({ version, installedAt: new Date().toISOString() }));
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
    options.onProgress?.(
      `Template ${name} ${version} ready in ${Math.round((Date.now() - started) / 1000)} s.`,
    );
    return cache;
  });
}

/** Removes caches of other versions of the template (a changed template invalidates the old install). */
export async function pruneTemplateCaches(cacheRoot: string, keep: TemplateCache): Promise<string[]> {
  const removed: string[] = [];
  const entries = await fs.readdir(cacheRoot).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return [];
    throw error;
  });
  for (const entry of entries) {
    const match = new RegExp(`^${keep.name}-([0-9a-f]{16})(\\.ready)?$`).exec(entry);
    if (!match || match[1] === keep.version) continue;
    await fs.rm(path.join(cacheRoot, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
