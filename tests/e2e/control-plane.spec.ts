import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "@playwright/test";
import { E2E_BASE_URL, E2E_LEG, E2E_MODEL_KEY, E2E_MODEL_URL, E2E_SERVER_LOG } from "./env";
import { createOperator } from "./operators";
import { copyShareLink, useScript } from "./workspace-actions";

// The control plane end to end, run on every leg (libSQL; MySQL under `next start`; MySQL under `next dev`):
// sign-in, a credential save, a build whose status only flows back through the runner's webhook, and its replay.
// On MySQL it first waits for the reconciler's pass: the bundle that opens the shared pool first is then not the
// one the routes import, which is what once sent SQLite syntax to MySQL and lost every runner event.

const BUILD_MS = 300_000;

async function reconcilerRanFirst(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const log = fs.existsSync(E2E_SERVER_LOG) ? fs.readFileSync(E2E_SERVER_LOG, "utf8") : "";
    if (log.includes("[kiln] reconciler: first pass done")) return;
    await sleep(250);
  }
  throw new Error(`the reconciler's first pass never showed in ${E2E_SERVER_LOG}`);
}

test.describe(`control plane on ${E2E_LEG}`, () => {
  test.describe.configure({ timeout: 900_000 });

  test("after the reconciler's first pass: sign in, save a credential, build through the webhook, replay", async ({
    page,
    browser,
    context,
  }) => {
    await reconcilerRanFirst();
    const operator = createOperator();
    await page.goto("/login");
    await page.getByLabel("Email").fill(operator.email);
    await page.getByLabel("Password").fill(operator.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible({
      timeout: 60_000,
    });

    // An upsert: the statement that failed on MySQL when the dialect was read from the wrong Kysely copy.
    const saved = await page.request.put("/api/v1/credentials/openai", {
      data: { apiKey: E2E_MODEL_KEY, baseUrl: `${E2E_MODEL_URL}/v1` },
    });
    expect(saved.status(), await saved.text()).toBe(200);
    const resaved = await page.request.put("/api/v1/credentials/openai", {
      data: { apiKey: E2E_MODEL_KEY, baseUrl: `${E2E_MODEL_URL}/v1` },
    });
    expect(resaved.status(), await resaved.text()).toBe(200);

    await useScript(["plan-todo", "codex-todo-app"]);
    await page.getByRole("textbox", { name: "What should Kiln build?" }).fill("build a todo app");
    await page.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/prj_\w+\/tasks\/tsk_\w+/, { timeout: 60_000 });

    // Generate, verify and finish are reported only by the runner's webhook batches (insert-ignore on MySQL).
    await expect(page.getByText("Checkpoint 1 · finished", { exact: true })).toBeVisible({
      timeout: BUILD_MS,
    });
    await expect(page.getByText("Plan: Todo List")).toBeVisible();
    const preview = page.frameLocator('iframe[title="Preview of checkpoint 1"]');
    await expect(preview.getByText(/todo/i).first()).toBeVisible({ timeout: 60_000 });

    // The preview is served on an origin of its own (never Kiln's host), so the browser keeps Kiln's session
    // cookie from generated code, and the app's scripts can neither read Kiln's API nor act with the session.
    const previewSrc = await page.locator('iframe[title="Preview of checkpoint 1"]').getAttribute("src");
    const previewUrl = new URL(previewSrc ?? "about:blank");
    expect(previewUrl.hostname).toMatch(/^p-[0-9a-f]{32}\.localhost$/);
    expect((await context.cookies(E2E_BASE_URL)).map((cookie) => cookie.name)).toContain("kiln_session");
    expect((await context.cookies(previewUrl.origin)).map((cookie) => cookie.name)).not.toContain(
      "kiln_session",
    );
    const frame = page.frames().find((candidate) => candidate.url().startsWith(previewUrl.origin));
    if (!frame) throw new Error("the preview frame is not loaded");
    const attempts = await frame.evaluate(async (kiln) => {
      const read = await fetch(`${kiln}/api/v1/me`, { credentials: "include" }).then(
        async (response) => `${response.status} ${await response.text()}`,
        (error: unknown) => `blocked: ${String(error)}`,
      );
      // no-cors: the browser sends it (with whatever cookies it would attach) and hides the answer.
      await fetch(`${kiln}/api/v1/projects`, {
        method: "POST",
        mode: "no-cors",
        credentials: "include",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ prompt: "made by the preview" }),
      }).catch(() => undefined);
      // `next dev` opens its reload socket to any `*.localhost` page; Kiln's front refuses pages of previews first.
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${kiln.replace(/^http/, "ws")}/_next/webpack-hmr`);
        ws.onopen = () => {
          ws.close();
          resolve("opened");
        };
        ws.onerror = () => resolve("refused");
        setTimeout(() => resolve("no answer"), 5000);
      });
      return { read, cookie: document.cookie, socket };
    }, E2E_BASE_URL);
    expect(attempts.read).toMatch(/^blocked|^401|^403/);
    expect(attempts.socket).toBe("refused");
    expect(attempts.cookie).not.toContain("kiln_session");
    const projects = await page.request.get("/api/v1/projects");
    expect(JSON.stringify(await projects.json())).not.toContain("made by the preview");

    const shareUrl = await copyShareLink(page, context);

    const stranger = await browser.newContext();
    const viewer = await stranger.newPage();
    expect((await viewer.goto(shareUrl))?.status()).toBe(200);
    await expect(viewer.locator('section[aria-label="Checkpoint 1"]')).toBeVisible({ timeout: 60_000 });
    await expect(viewer.getByText("build a todo app").first()).toBeVisible();
    await stranger.close();

    const log = fs.readFileSync(E2E_SERVER_LOG, "utf8");
    expect(log).not.toMatch(/error in your SQL syntax/i);
  });
});
