import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pruneTemplateCaches } from "@/server/templates/template-cache";
import { templateVersion } from "@/server/templates/template-version";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-template-version-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function template(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

describe("template versions", () => {
  const base = { "package.json": "{}", "src/app/page.tsx": "export default 1", "package-lock.json": "{}" };

  it("are stable for the same files, wherever they live", async () => {
    expect(await templateVersion(template(base))).toBe(await templateVersion(template(base)));
  });

  it("change when any source file or the lockfile changes", async () => {
    const v = await templateVersion(template(base));
    expect(await templateVersion(template({ ...base, "src/app/page.tsx": "export default 2" }))).not.toBe(v);
    expect(await templateVersion(template({ ...base, "package-lock.json": '{"v":2}' }))).not.toBe(v);
    expect(await templateVersion(template({ ...base, "src/new.ts": "" }))).not.toBe(v);
  });

  it("ignore installed and built output", async () => {
    const v = await templateVersion(template(base));
    const installed = template({
      ...base,
      "node_modules/x/index.js": "1",
      ".next/cache/a": "b",
      "tsconfig.tsbuildinfo": "x",
    });
    expect(await templateVersion(installed)).toBe(v);
  });

  it("prune leaves only the current version's cache", async () => {
    const root = tempDir();
    for (const entry of [
      "nextjs-app-0000000000000001",
      "nextjs-app-0000000000000002",
      "other-0000000000000003",
    ]) {
      fs.mkdirSync(path.join(root, entry));
      fs.writeFileSync(path.join(root, `${entry}.ready`), "{}");
    }
    const removed = await pruneTemplateCaches(root, {
      name: "nextjs-app",
      version: "0000000000000002",
      dir: path.join(root, "nextjs-app-0000000000000002"),
    });
    expect(removed.sort()).toEqual(["nextjs-app-0000000000000001", "nextjs-app-0000000000000001.ready"]);
    expect(fs.readdirSync(root).sort()).toEqual([
      "nextjs-app-0000000000000002",
      "nextjs-app-0000000000000002.ready",
      "other-0000000000000003",
      "other-0000000000000003.ready",
    ]);
  });
});
