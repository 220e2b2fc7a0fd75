import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BuildOutputError, packBuildOutput, packedBuildOrNone } from "@/sandboxes/runner/build-output";

// The runner packs what `next start` reads of a passed build, and nothing of the build cache, the dev server's
// output or traces (which are large, or name the sandbox's paths), into the file `runner.committed` names.

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const dirs: string[] = [];

function workdirWith(files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-build-output-"));
  dirs.push(dir);
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), `contents of ${file}`);
  }
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("packing the verified build", () => {
  it("keeps the server, static files and manifests; leaves out cache, dev output, traces and maps", async () => {
    const workdir = workdirWith([
      ".next/BUILD_ID",
      ".next/routes-manifest.json",
      ".next/server/app/page.js",
      ".next/server/app/page.js.map",
      ".next/server/app/page.js.nft.json",
      ".next/static/chunks/main.js",
      ".next/cache/images/big.bin",
      ".next/dev/server/app/page.js",
      ".next/trace",
      ".next/trace-build",
      ".next/types/routes.d.ts",
      "app/page.tsx",
    ]);
    const file = await packBuildOutput({ workdir, env });
    expect(file).toBe(".kiln/build.tar.gz");
    const listed = execFileSync("tar", ["-tzf", path.join(workdir, file)], { encoding: "utf8" })
      .split("\n")
      .filter((entry) => entry && !entry.endsWith("/"))
      .sort();
    expect(listed).toEqual([
      ".next/BUILD_ID",
      ".next/routes-manifest.json",
      ".next/server/app/page.js",
      ".next/static/chunks/main.js",
    ]);
  });

  it("hands back nothing when there is no finished build, and says why in the log", async () => {
    const workdir = workdirWith([".next/cache/x", "app/page.tsx"]);
    await expect(packBuildOutput({ workdir, env })).rejects.toBeInstanceOf(BuildOutputError);
    const logged: string[] = [];
    expect(await packedBuildOrNone({ workdir, env }, (line) => logged.push(line))).toBeUndefined();
    expect(logged.join("\n")).toMatch(/BUILD_ID/);
  });
});
