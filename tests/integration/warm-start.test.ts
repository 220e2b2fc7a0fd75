import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalSandboxes } from "@/server/integrations/sandboxes/local";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { startDevServer } from "@/server/templates/dev-server";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import { createTemplateSandbox } from "@/server/templates/template-sandbox";
import { TEMPLATE_DIR, templateCache } from "../helpers/template";

const roots: string[] = [];
const sandboxes: SandboxHandle[] = [];
afterAll(async () => {
  await Promise.allSettled(sandboxes.map((sandbox) => sandbox.stop()));
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

describe("warm start from the template cache", { timeout: 600_000 }, () => {
  it("installs a template version once: asking again reuses the same tree", async () => {
    const cache = await templateCache();
    expect(fs.existsSync(path.join(cache.dir, "node_modules", "next", "package.json"))).toBe(true);
    const progress: string[] = [];
    const again = await ensureTemplateCache({
      templateDir: TEMPLATE_DIR,
      cacheRoot: path.dirname(cache.dir),
      onProgress: (message) => progress.push(message),
    });
    expect(again).toEqual(cache);
    expect(progress).toEqual([]);
  });

  it("a local sandbox from the cache serves the first page with the app's name", async () => {
    const cache = await templateCache();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-warm-"));
    roots.push(root);
    const local = createLocalSandboxes({ root });
    const sandbox = await createTemplateSandbox(local, cache, {
      name: "warm-start-test",
      env: {},
      timeoutMs: 300_000,
      app: { name: "Quokka Quotes", description: "Quotes from small marsupials" },
    });
    sandboxes.push(sandbox);
    const server = await startDevServer(sandbox, { timeoutMs: 180_000 });
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Quokka Quotes");
    // The template in the repo is untouched by the sandbox's copy.
    expect(fs.readFileSync(path.join(TEMPLATE_DIR, "app.json"), "utf8")).not.toContain("Quokka Quotes");
  });
});
