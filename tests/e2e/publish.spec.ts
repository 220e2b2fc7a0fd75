import { expect, type Page, test } from "@playwright/test";
import { createProjectFromDashboard, signInWithScriptedModel, useScript } from "./workspace-actions";

// Issue 12: Publish serves the project at a stable URL. The e2e server deploys nothing on its own (KILN_AUTO_DEPLOY=0),
// so the spec deploys the finished checkpoint the way an operator does (Redeploy, here through the API), then presses
// Publish in the workspace header and opens the stable URL: the generated app answers there, on a host of its own.

const BUILD_MS = 300_000;
const DEPLOY_MS = 180_000;

async function deployAndWait(page: Page, revisionId: string): Promise<void> {
  expect((await page.request.post(`/api/v1/revisions/${revisionId}/deploy`)).status()).toBe(202);
  await expect
    .poll(
      async () => {
        const answer = await page.request.get(`/api/v1/revisions/${revisionId}/deployment`);
        return ((await answer.json()) as { deployment: { state: string } }).deployment.state;
      },
      { timeout: DEPLOY_MS, intervals: [2_000] },
    )
    .toBe("ready");
}

test("Publish serves the finished checkpoint at the project's stable URL, and Unpublish stops it", async ({
  page,
  browser,
}) => {
  test.setTimeout(BUILD_MS + DEPLOY_MS + 120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await signInWithScriptedModel(page);
  await useScript(["plan-todo", "codex-todo-app"]);
  const { projectId, taskId } = await createProjectFromDashboard(page, "build a todo app");
  await expect(page.getByText("Checkpoint 1 · finished", { exact: true })).toBeVisible({ timeout: BUILD_MS });

  // Nothing deployed yet: Publish waits for a deployment.
  const publish = page.getByRole("button", { name: "Publish", exact: true });
  await expect(publish).toBeDisabled();
  const revisions = (await (
    await page.request.get(`/api/v1/projects/${projectId}/tasks/${taskId}/revisions`)
  ).json()) as { revisions: Array<{ id: string; ordinal: number }> };
  const first = revisions.revisions.find((revision) => revision.ordinal === 1);
  if (!first) throw new Error("no checkpoint 1");
  await deployAndWait(page, first.id);
  // The deployer reports ready a moment before the checkpoint records its URL: wait for the project to offer it.
  await expect
    .poll(
      async () => {
        const answer = await page.request.get(`/api/v1/projects/${projectId}`);
        return ((await answer.json()) as { project: { publishable: { ordinal: number } | null } }).project
          .publishable?.ordinal;
      },
      { timeout: 30_000 },
    )
    .toBe(1);

  await page.reload();
  await expect(publish).toBeEnabled();
  await publish.click();
  const published = page.getByRole("button", { name: "Published" });
  await expect(published).toBeVisible();
  await published.click();
  const url = (await page.getByTestId("published-url").textContent()) ?? "";
  expect(url).toMatch(/^http:\/\/a-[0-9a-f]{32}\.localhost:\d+\/$/);
  await page.screenshot({ path: "test-results/e2e/artifacts/publish-header.png" });
  await page.keyboard.press("Escape");
  // On a phone the header keeps Publish beside Share.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole("button", { name: "Published" })).toBeVisible();
  await page.screenshot({ path: "test-results/e2e/artifacts/publish-header-phone.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  // A visitor with no Kiln session opens the stable URL and gets the app.
  const visitor = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const app = await visitor.newPage();
  await app.goto(url);
  await expect(app.getByText(/todo/i).first()).toBeVisible({ timeout: 60_000 });
  await app.screenshot({ path: "test-results/e2e/artifacts/publish-app.png" });

  // The project page and the dashboard card show it.
  await page.goto(`/projects/${projectId}`);
  await expect(page.getByRole("link", { name: url })).toBeVisible();
  await expect(page.getByText("Serving checkpoint 1")).toBeVisible();
  await page.goto("/projects");
  await expect(page.getByRole("link", { name: `Live: ${new URL(url).host}` })).toBeVisible();
  await page.screenshot({ path: "test-results/e2e/artifacts/publish-dashboard.png" });

  // Unpublish: the stable URL says so, and Publish is offered again.
  await page.goto(`/projects/${projectId}/tasks/${taskId}`);
  await page.getByRole("button", { name: "Published" }).click();
  await page.getByRole("menuitem", { name: "Unpublish" }).click();
  await expect(publish).toBeVisible();
  await app.reload();
  await expect(app.getByRole("heading", { name: "This app is not published." })).toBeVisible();
  await visitor.close();
});
