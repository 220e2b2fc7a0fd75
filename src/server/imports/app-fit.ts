import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * Whether an imported repository fits what Kiln runs (docs/import.md): a package.json at its root with a `dev`
 * script (the preview) and a `build` script (every checkpoint's check); `migrate` is optional (run with `up` when
 * present). Problems are listed precisely so the operator knows what to add.
 */

export type AppFit = { ok: true; hasMigrate: boolean; lockfile: boolean } | { ok: false; problems: string[] };

const maxPackageJsonBytes = 1024 * 1024;
const scriptsSchema = z.record(z.string(), z.unknown());

async function isRegularFile(file: string): Promise<boolean> {
  const stats = await lstat(file).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR"))
      return undefined;
    throw error;
  });
  return stats?.isFile() ?? false;
}

export async function checkAppFit(dir: string): Promise<AppFit> {
  const file = path.join(dir, "package.json");
  // lstat, not stat: a package.json that is a symlink could point at a file of the host, and its content must not
  // be read (a JSON parse error would quote it).
  const stats = await lstat(file).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!stats) return { ok: false, problems: ["The repository has no package.json at its root."] };
  if (!stats.isFile()) return { ok: false, problems: ["package.json is not a regular file (a symlink?)."] };
  if (stats.size > maxPackageJsonBytes) return { ok: false, problems: ["package.json is larger than 1 MB."] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { ok: false, problems: ["package.json is not valid JSON."] };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { ok: false, problems: ["package.json is not a JSON object."] };
  const scripts = scriptsSchema.safeParse("scripts" in parsed ? parsed.scripts : undefined);
  const script = (name: string) => {
    const value = scripts.success ? scripts.data[name] : undefined;
    return typeof value === "string" && value.trim() !== "";
  };
  const problems: string[] = [];
  if (!script("dev"))
    problems.push('package.json has no "dev" script (Kiln previews the app with `npm run dev`).');
  if (!script("build"))
    problems.push('package.json has no "build" script (Kiln checks every checkpoint with `npm run build`).');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    hasMigrate: script("migrate"),
    lockfile: await isRegularFile(path.join(dir, "package-lock.json")),
  };
}
