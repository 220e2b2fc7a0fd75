import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkAppFit } from "@/server/imports/app-fit";

// What an imported repository must have (docs/import.md), and that a package.json Kiln must not read is not read.

const dirs: string[] = [];
function repo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-app-fit-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("checkAppFit", () => {
  it("accepts dev and build, with migrate optional, and notes a lockfile", async () => {
    const pkg = { scripts: { dev: "next dev", build: "next build" } };
    expect(await checkAppFit(repo({ "package.json": JSON.stringify(pkg) }))).toEqual({
      ok: true,
      hasMigrate: false,
      lockfile: false,
    });
    const full = { scripts: { ...pkg.scripts, migrate: "tsx migrate.ts" } };
    expect(
      await checkAppFit(repo({ "package.json": JSON.stringify(full), "package-lock.json": "{}" })),
    ).toEqual({ ok: true, hasMigrate: true, lockfile: true });
  });

  it("says precisely what is missing", async () => {
    expect(await checkAppFit(repo({ "README.md": "hi" }))).toEqual({
      ok: false,
      problems: ["The repository has no package.json at its root."],
    });
    expect(await checkAppFit(repo({ "package.json": '{"scripts":{"dev":"next dev","build":""}}' }))).toEqual({
      ok: false,
      problems: ['package.json has no "build" script (Kiln checks every checkpoint with `npm run build`).'],
    });
    expect(await checkAppFit(repo({ "package.json": "[1]" }))).toEqual({
      ok: false,
      problems: ["package.json is not a JSON object."],
    });
  });

  it("never quotes the content of a package.json it cannot parse, and never follows a symlink", async () => {
    const secret = repo({ "secret.txt": "TOP-SECRET-VALUE" });
    const broken = await checkAppFit(repo({ "package.json": "TOP-SECRET-VALUE" }));
    expect(broken).toEqual({ ok: false, problems: ["package.json is not valid JSON."] });
    const linked = repo({});
    fs.symlinkSync(path.join(secret, "secret.txt"), path.join(linked, "package.json"));
    const answer = await checkAppFit(linked);
    expect(answer).toEqual({ ok: false, problems: ["package.json is not a regular file (a symlink?)."] });
    expect(JSON.stringify(answer)).not.toContain("TOP-SECRET");
  });
});
