import fs from "node:fs/promises";
import path from "node:path";
import { capture, describeExit } from "./process";
import { kilnDirName } from "./sessions";

/**
 * The verified production build, packed for the platform so nothing builds the same tree twice: the deploy and a
 * restore's preview run `next start` on it (docs/pipeline.md "Build output"). Only what `next start` reads goes in:
 * `.next` without the build cache, the dev server's own output, traces, the build-time transform workers
 * (`.next/build`), generated types, diagnostics, source maps and file-trace lists. Nothing in it names the working
 * directory's absolute path except `required-server-files.*`, which only the standalone server reads, so it starts
 * from wherever it is unpacked.
 */

export class BuildOutputError extends Error {
  override readonly name = "BuildOutputError";
}

/** Relative to the working directory, inside `.kiln/` (excluded from git, like the bundle). */
export const buildOutputFile = path.posix.join(kilnDirName, "build.tar.gz");

const excluded = [
  ".next/cache",
  ".next/dev",
  ".next/trace",
  ".next/trace-build",
  ".next/build",
  ".next/types",
  ".next/diagnostics",
  "*.map",
  "*.nft.json",
];

/** Packs `.next` of a passed `next build` into `buildOutputFile`; throws BuildOutputError when there is none. */
export async function packBuildOutput(context: {
  workdir: string;
  env: Record<string, string>;
}): Promise<string> {
  const buildId = path.join(context.workdir, ".next", "BUILD_ID");
  try {
    await fs.access(buildId);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT")
      throw new BuildOutputError("the build left no .next/BUILD_ID");
    throw error;
  }
  const target = path.join(context.workdir, buildOutputFile);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rm(target, { force: true });
  const packed = await capture(
    "tar",
    ["-czf", buildOutputFile, ...excluded.map((pattern) => `--exclude=${pattern}`), ".next"],
    { cwd: context.workdir, env: context.env, timeoutMs: 2 * 60_000 },
  );
  if (packed.code !== 0 || packed.timedOut) {
    throw new BuildOutputError(
      `packing .next failed (${describeExit(packed)}): ${packed.stderr.trim().slice(-500)}`,
    );
  }
  return buildOutputFile;
}

/**
 * The packed build for `runner.committed`, or undefined when it could not be packed: the platform then builds the
 * commit itself as before, so a packing failure costs time, never the checkpoint (it is logged).
 */
export async function packedBuildOrNone(
  context: { workdir: string; env: Record<string, string> },
  log: (message: string) => void,
): Promise<string | undefined> {
  try {
    return await packBuildOutput(context);
  } catch (error) {
    if (!(error instanceof BuildOutputError)) throw error;
    log(`the verified build is not handed back (the deploy will build again): ${error.message}`);
    return undefined;
  }
}
