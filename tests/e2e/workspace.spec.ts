import { expect, type Locator, type Page, test } from "@playwright/test";
import { E2E_MODEL_KEY } from "./env";
import {
  copyShareLink,
  createProjectFromDashboard,
  signInWithScriptedModel,
  useScript,
} from "./workspace-actions";

// The operator's whole loop in the browser, on local adapters with the real Codex CLI and the scripted model:
// prompt → live steps → preview → follow-up → its diff → restore → share; then the public replay in a fresh
// browser without a login, and the link revoked.

const BUILD_MS = 300_000;

/** How far the page is wider than its window (0 or less: no sideways scrolling). */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** How many different colours the highlighted tokens under `root` use (plain text has none). */
function distinctTokenColors(root: Locator): Promise<number> {
  return root.evaluate(
    (element) =>
      new Set(
        Array.from(
          element.querySelectorAll<HTMLElement>("span[style*='--code-light']"),
          (span) => getComputedStyle(span).color,
        ),
      ).size,
  );
}

function step(page: Page, name: string) {
  return page.getByRole("list", { name: "Steps" }).getByRole("listitem").filter({ hasText: name });
}

async function waitForCheckpoint(page: Page, ordinal: number, status: string) {
  await expect(page.getByText(`Checkpoint ${ordinal} · ${status}`, { exact: true })).toBeVisible({
    timeout: BUILD_MS,
  });
}

test.describe("workspace", () => {
  test.describe.configure({ timeout: 900_000 });
  // The laptop size issue 12 measures the layout at.
  test.use({ viewport: { width: 1440, height: 900 } });

  test("build, watch live, follow up, see the diff, restore, share; the replay plays without a login", async ({
    page,
    browser,
    context,
  }) => {
    const operator = await signInWithScriptedModel(page);
    await useScript(["plan-todo", "codex-todo-app"]);

    await createProjectFromDashboard(page, "build a todo app");

    // Live: the steps move without a reload.
    await expect(step(page, "Generate")).toHaveAttribute("data-state", "running", { timeout: BUILD_MS });
    await expect(step(page, "Plan")).toHaveAttribute("data-state", "done");
    await expect(step(page, "Verify")).toHaveAttribute("data-state", "done", { timeout: BUILD_MS });
    await waitForCheckpoint(page, 1, "finished");
    await expect(page.getByText("Plan: Todo List")).toBeVisible();
    // The plan named the task: the header follows without a reload.
    await expect(page.getByRole("heading", { name: "Todo List", level: 1 })).toBeVisible();

    // The preview frame shows the generated app.
    const preview = page.frameLocator('iframe[title="Preview of checkpoint 1"]');
    await expect(preview.getByText(/todo/i).first()).toBeVisible({ timeout: 60_000 });
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace.png", fullPage: true });

    // The whole window: the preview takes most of it, the chat box is in view, the page itself does not scroll.
    const viewport = page.viewportSize() ?? { width: 0, height: 0 };
    expect(viewport).toEqual({ width: 1440, height: 900 });
    const frame = await page.locator('iframe[title="Preview of checkpoint 1"]').boundingBox();
    expect(frame?.width ?? 0).toBeGreaterThanOrEqual(0.6 * viewport.width);
    expect(frame?.height ?? 0).toBeGreaterThanOrEqual(0.75 * viewport.height);
    const box = await page.getByRole("textbox", { name: "Follow-up prompt" }).boundingBox();
    expect((box?.y ?? Number.POSITIVE_INFINITY) + (box?.height ?? 0)).toBeLessThanOrEqual(viewport.height);
    expect(
      await page.evaluate(() => document.documentElement.scrollHeight - window.innerHeight),
    ).toBeLessThanOrEqual(0);

    // A follow-up: a second checkpoint with its own diff. While it builds, checkpoint 1 stays up under a notice.
    await useScript(["codex-add-username"]);
    await page.getByRole("textbox", { name: "Follow-up prompt" }).fill("add a username field");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(
      page.getByText(/^Building checkpoint 2: .*Checkpoint 1 stays up until it is ready\.$/),
    ).toBeVisible();
    await expect(page.locator('iframe[title="Preview of checkpoint 1"]')).toBeVisible();
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-building.png" });
    await waitForCheckpoint(page, 2, "finished");
    await expect(page.locator('iframe[title="Preview of checkpoint 2"]')).toBeVisible();
    await page.getByRole("tab", { name: "Changes" }).click();
    await expect(page.getByText(/migrations\/\d+_add_todos_username\.ts/).first()).toBeVisible({
      timeout: 30_000,
    });
    await expect(
      page.getByText('+  await db.schema.alterTable("todos")', { exact: false }).first(),
    ).toBeVisible();
    // The patch is coloured by the server: the migration's keywords and strings in colours of their own.
    const migrationPatch = page
      .locator('pre[data-highlighted="true"]')
      .filter({ hasText: "alterTable" })
      .first();
    await expect(migrationPatch).toBeVisible();
    expect(await distinctTokenColors(migrationPatch)).toBeGreaterThan(2);
    await page.getByRole("tab", { name: "Database" }).click();
    await expect(page.getByText("username", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-diff.png", fullPage: true });

    // The Code tab: the checkpoint's files, the app's src/ open, changed files marked; a file opens highlighted
    // with line numbers and its path in the URL.
    await page.getByRole("tab", { name: "Code" }).click();
    const files = page.getByRole("navigation", { name: "Files" });
    await expect(files.getByRole("button", { name: /^src( \(\d+ changed\))?$/ })).toHaveAttribute(
      "aria-expanded",
      "true",
      {
        timeout: 30_000,
      },
    );
    await files.getByRole("button", { name: "migrations (1 changed)", exact: true }).click();
    const migration = files.getByRole("button", { name: /_add_todos_username\.ts/ });
    await expect(migration).toContainText("(added by this checkpoint)");
    await migration.click();
    await expect(page).toHaveURL(/[?&]file=migrations%2F\d+_add_todos_username\.ts/);
    const fileView = page.getByRole("region", { name: /^File migrations\/\d+_add_todos_username\.ts$/ });
    await expect(fileView.locator("pre")).toContainText("alterTable");
    await expect(fileView.locator("pre")).toHaveAttribute("data-language", "typescript");
    expect(await distinctTokenColors(fileView.locator("pre"))).toBeGreaterThan(2);
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-code.png" });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Preview" }).click();
    await expect(page.getByRole("navigation", { name: "Files" })).toBeHidden();
    await expect(page.getByLabel("File", { exact: true })).toBeVisible();
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-code-phone.png" });
    await page.setViewportSize({ width: 1440, height: 900 });

    // Restore checkpoint 1: a third checkpoint with checkpoint 1's code and data.
    await page.getByRole("tab", { name: /Checkpoints/ }).click();
    const first = page.getByRole("listitem").filter({ hasText: "Checkpoint 1" });
    await first.getByRole("button", { name: "Restore this version" }).click();
    const dialog = page.getByRole("alertdialog");
    await expect(dialog).toContainText("rows written in later checkpoints are not in it");
    await dialog.getByRole("button", { name: "Restore checkpoint 1" }).click();
    await waitForCheckpoint(page, 3, "finished");
    await page.getByRole("tab", { name: "Database" }).click();
    // Leaving the Code tab forgets the file: a reload shows the tab the operator is on, not the code.
    await expect(page).not.toHaveURL(/[?&]file=/);
    await expect(page.getByText("todos", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText("username", { exact: true })).toHaveCount(0);

    // Share: the link is copied to the clipboard.
    const shareUrl = await copyShareLink(page, context);

    // A stranger's browser: no cookie, the replay plays back the session.
    const stranger = await browser.newContext();
    const viewer = await stranger.newPage();
    const opened = await viewer.goto(shareUrl);
    expect(opened?.status()).toBe(200);
    // Every checkpoint, in order; jumping to one shows what was asked for it.
    // (The conversation's sections; the player's side panel names the current checkpoint too.)
    const sections = viewer.locator('section[aria-label^="Checkpoint "]');
    await expect(sections).toHaveCount(3);
    expect(
      await sections.evaluateAll((nodes) => nodes.map((node) => node.getAttribute("aria-label"))),
    ).toEqual(["Checkpoint 1", "Checkpoint 2", "Checkpoint 3"]);
    await viewer.getByRole("button", { name: "Jump to checkpoint 1" }).click();
    await expect(viewer.getByText("build a todo app").first()).toBeVisible();
    await viewer.getByRole("button", { name: "Jump to checkpoint 2" }).click();
    await expect(viewer.getByText("add a username field").first()).toBeVisible();
    // Played from the start, the events come back in the order they happened.
    await viewer.getByRole("button", { name: "8× speed" }).click();
    await viewer.getByRole("button", { name: "Play replay" }).click();
    await expect(viewer.getByRole("button", { name: "Pause replay" })).toBeVisible();
    const position = viewer.getByRole("slider", { name: "Replay position" });
    await expect(position).toHaveAttribute("aria-valuetext", /event ([\d,]+) of \1$/, { timeout: 60_000 });
    await expect(sections).toHaveCount(3);
    const html = await viewer.content();
    expect(html).not.toContain(operator.email);
    expect(html).not.toContain(E2E_MODEL_KEY);
    await viewer.screenshot({ path: "test-results/e2e/artifacts/replay.png", fullPage: true });
    // A phone: nothing wider than the screen.
    await viewer.setViewportSize({ width: 390, height: 844 });
    expect(await horizontalOverflow(viewer)).toBeLessThanOrEqual(0);
    await viewer.screenshot({ path: "test-results/e2e/artifacts/replay-390.png", fullPage: true });

    // Revoked: the same link is a 404 for everyone.
    await page.getByRole("button", { name: "Share" }).click();
    await page.getByRole("menuitem", { name: "Revoke the link" }).click();
    await expect(page.getByText("The share link is revoked")).toBeVisible();
    const revoked = await viewer.goto(shareUrl);
    expect(revoked?.status()).toBe(404);
    await stranger.close();

    // The workspace on a phone: the chat or the preview, switched at the top; nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await expect(page.getByRole("textbox", { name: "Follow-up prompt" })).toBeVisible();
    await expect(page.getByRole("tab", { name: "Preview" })).toBeHidden();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-390.png" });
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    await expect(page.getByRole("textbox", { name: "Follow-up prompt" })).toBeHidden();
    const phoneFrame = await page.locator('iframe[title="Preview of checkpoint 3"]').boundingBox();
    expect(phoneFrame?.width ?? 0).toBeGreaterThanOrEqual(0.9 * 390);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-390-preview.png" });
    await page.getByRole("button", { name: "Chat", exact: true }).click();
    await expect(page.getByRole("textbox", { name: "Follow-up prompt" })).toBeVisible();
  });
});
