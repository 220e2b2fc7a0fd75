import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

/**
 * The sandbox runner (src/sandboxes/runner/) as one self-contained ES module that the sandbox's Node runs:
 * everything bundled in except `node:` builtins. The sandbox holds only a run token and a webhook secret, so the
 * bundle must never carry platform code: anything it would import beyond the runner itself, the agent definitions
 * (src/agents/, pure by design) and the pure platform modules listed below, the `server-only` marker, or a package
 * other than zod fails the build with the import chain to fix.
 */

export type RunnerBundle = {
  /** Absolute path of `runner.mjs`, under `<outDir>/<sha256>/`. */
  file: string;
  /** Of the file's bytes: the cache key, and what a sandbox can check. */
  sha256: string;
};

export type BuildRunnerOptions = {
  /** The Kiln checkout (holds src/ and tsconfig.json). Default: found upward from the current directory. */
  projectRoot?: string;
};

export class RunnerBundleError extends Error {
  override readonly name = "RunnerBundleError";
}

const entry = path.join("src", "sandboxes", "runner", "main.ts");

/**
 * Platform modules the runner may include: pure, no secrets, no database, no `server-only`. Adding one here is a
 * decision: read it (and what it imports) first.
 */
const allowedServerModules = new Set([
  "src/server/events/schema.ts",
  "src/server/events/sign.ts",
  "src/server/process-env.ts",
  "src/server/revisions/state-machine.ts",
]);

/**
 * Folders the runner may include whole: itself, and the agent definitions (commands, run configs, session files,
 * output normalisers), which must stay as pure as the modules above: no database, no `server-only`, no `@/env`.
 */
const allowedFolders = ["src/sandboxes/runner/", "src/agents/"];

const allowedPackages = ["zod"];

async function findProjectRoot(start: string): Promise<string> {
  let dir = path.resolve(start);
  for (;;) {
    try {
      await fs.access(path.join(dir, entry));
      return dir;
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new RunnerBundleError(
        `Cannot find ${entry} above ${start}: run the platform from the Kiln checkout or pass projectRoot.`,
      );
    }
    dir = parent;
  }
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Refuses what must never be bundled, at the import that asks for it. */
const guard: Plugin = {
  name: "kiln-runner-guard",
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, (args) => {
      const spec = args.path;
      if (spec.startsWith("node:")) return { path: spec, external: true };
      if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("@/")) return undefined;
      const from = args.importer ? ` (imported by ${args.importer})` : "";
      if (spec === "server-only") {
        return { errors: [{ text: `the runner bundle must not include a server-only module${from}` }] };
      }
      if (!allowedPackages.includes(packageName(spec))) {
        return {
          errors: [
            {
              text: `the runner bundle may only use node: builtins and ${allowedPackages.join(", ")}, not "${spec}"${from}`,
            },
          ],
        };
      }
      return undefined;
    });
  },
};

function checkInputs(metafile: Metafile, root: string): void {
  const refused: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const relative = path.relative(root, path.resolve(root, input)).split(path.sep).join("/");
    const allowed =
      allowedServerModules.has(relative) ||
      allowedFolders.some((folder) => relative.startsWith(folder)) ||
      relative.startsWith("node_modules/zod/");
    if (!allowed) refused.push(relative);
  }
  if (refused.length > 0) {
    throw new RunnerBundleError(
      `The sandbox runner would include platform modules that are not cleared for sandboxes: ${refused.join(", ")}. ` +
        "Import only pure modules from the runner, or clear the module in build-runner.ts after checking it.",
    );
  }
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const external = output.imports.filter((imported) => !imported.path.startsWith("node:"));
    if (external.length > 0) {
      throw new RunnerBundleError(
        `The runner bundle ${file} imports ${external.map((imported) => imported.path).join(", ")}: only node: builtins may stay external.`,
      );
    }
  }
}

async function writeOnce(file: string, contents: Uint8Array): Promise<void> {
  try {
    await fs.access(file);
    return;
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error;
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Rename is atomic: two platform processes building at once both end up with the same complete file.
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await fs.writeFile(temporary, contents, { mode: 0o644 });
  await fs.rename(temporary, file);
}

/** Bundles the runner and stores it under `outDir` by content hash (an unchanged runner is written once). */
export async function buildRunnerBundle(
  outDir?: string,
  options: BuildRunnerOptions = {},
): Promise<RunnerBundle> {
  const root = await findProjectRoot(options.projectRoot ?? process.cwd());
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      tsconfig: path.join(root, "tsconfig.json"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: false,
      sourcemap: false,
      write: false,
      metafile: true,
      logLevel: "silent",
      legalComments: "none",
      banner: {
        js: "// Kiln sandbox runner: generated by src/server/runner-bundle/build-runner.ts; do not edit.",
      },
      outfile: "runner.mjs",
      plugins: [guard],
    });
  } catch (error) {
    const details =
      error instanceof Error && "errors" in error && Array.isArray(error.errors)
        ? error.errors.map((item: { text?: unknown }) => String(item.text)).join("; ")
        : error instanceof Error
          ? error.message
          : String(error);
    throw new RunnerBundleError(`Bundling the sandbox runner failed: ${details}`, { cause: error });
  }
  if (!result.metafile) throw new RunnerBundleError("Bundling the sandbox runner produced no metafile.");
  checkInputs(result.metafile, root);
  const output = result.outputFiles?.[0];
  if (!output) throw new RunnerBundleError("Bundling the sandbox runner produced no file.");
  const sha256 = createHash("sha256").update(output.contents).digest("hex");
  const file = path.join(
    path.resolve(outDir ?? path.join(os.tmpdir(), "kiln-runner-bundle")),
    sha256,
    "runner.mjs",
  );
  await writeOnce(file, output.contents);
  return { file, sha256 };
}
