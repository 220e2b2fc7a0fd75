import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createVercelSandboxes } from "../../src/server/integrations/sandboxes/vercel";
import { createTemplateSandbox } from "../../src/server/templates/template-sandbox";
import { ensureVercelTemplateSnapshot } from "../../src/server/templates/vercel-template-snapshot";
import { startFakeVercelSandbox } from "../../tests/fakes/vercel-sandbox";
import { type BenchRow, measure } from "./stats";

// The platform-side cost of the Vercel warm start, against the wire fake (so Vercel's own VM boot is not in it):
// the per-sandbox check that the template snapshot is still live (registry read + one GET), and a sandbox from
// the snapshot named for its app (SDK create + read and write of app.json). The one-time build is not measured.

function tinyTemplate(root: string): string {
  const dir = path.join(root, "bench-app");
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  const manifest = { name: "bench-app", version: "0.0.0", private: true };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
  fs.writeFileSync(
    path.join(dir, "package-lock.json"),
    JSON.stringify({ ...manifest, lockfileVersion: 3, requires: true, packages: { "": manifest } }),
  );
  fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ name: "Bench" }));
  fs.writeFileSync(path.join(dir, "src", "page.txt"), "page\n");
  return dir;
}

export async function run(): Promise<BenchRow[]> {
  const credentials = { token: "vcp_bench", teamId: "team_bench", projectId: "prj_bench" };
  const fake = await startFakeVercelSandbox(credentials);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-vsnap-"));
  try {
    const sandboxes = createVercelSandboxes({ ...credentials, fetch: fake.fetch });
    const options = {
      sandboxes,
      templateDir: tinyTemplate(root),
      registryPath: path.join(root, "templates", "vercel-snapshots.json"),
      scope: "team_bench/prj_bench",
      bakeSteps: () => [],
    };
    const snapshot = await ensureVercelTemplateSnapshot(options);
    const reuse = await measure("vercel snapshot: ensure, reused (registry + liveness GET)", 50, () =>
      ensureVercelTemplateSnapshot(options),
    );
    const fromSnapshot = await measure(
      "vercel snapshot: sandbox from it with app.json (fake VM)",
      20,
      async (i) => {
        const sandbox = await createTemplateSandbox(sandboxes, snapshot, {
          name: `bench-${i}-${Date.now()}`,
          env: {},
          timeoutMs: 60_000,
          app: { name: `Bench ${i}` },
        });
        await sandbox.stop();
      },
    );
    return [
      { ...reuse, goal: "≤ 50 ms" },
      { ...fromSnapshot, goal: "≤ 250 ms" },
    ];
  } finally {
    await fake.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
