import { expect, test } from "@playwright/test";
import { createProjectFromDashboard, signInWithScriptedModel, useScript } from "./workspace-actions";

// Issue 12: a failed checkpoint offers one click on. "Fix it" hands the failure (the step and its error) to the agent
// as a follow-up, which shows in the conversation as the next checkpoint's prompt.

const BUILD_MS = 300_000;

test("a checkpoint whose build fails offers Fix it, which sends the failure as a follow-up", async ({
  page,
}) => {
  test.setTimeout(600_000);
  await signInWithScriptedModel(page);
  // The agent writes a page that does not type-check, and its fix turn does the same: verify fails.
  await useScript(["plan-todo", "codex-build-fails-twice"]);
  await createProjectFromDashboard(page, "build a todo app");
  await expect(page.getByText("Checkpoint 1 · failed", { exact: true })).toBeVisible({ timeout: BUILD_MS });

  const fixIt = page.getByRole("button", { name: "Fix it" });
  await expect(fixIt).toBeVisible();
  await expect(page.getByText("Sends the error to the agent as a follow-up.")).toBeVisible();
  await page.screenshot({ path: "test-results/e2e/artifacts/workspace-fix-it.png" });

  await useScript(["slow-agent"]);
  await fixIt.click();
  // The next checkpoint's prompt is the failure: which step, and the build's own error.
  const second = page.locator('section[aria-label="Checkpoint 2"]');
  await expect(second.getByText("Checkpoint 1 failed: Building the app failed with this error:")).toBeVisible(
    {
      timeout: 30_000,
    },
  );
  await expect(second.getByText(/not assignable to type 'number'/).first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Fix it" })).toHaveCount(0);
  // Nothing to keep up from before: no checkpoint was good yet.
  await expect(page.getByText(/stays up until it is ready/)).toHaveCount(0);

  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByText("Checkpoint 2 · cancelled", { exact: true })).toBeVisible({ timeout: 30_000 });
  // A cancelled checkpoint is not a failure: no Fix it for it.
  await expect(page.getByRole("button", { name: "Fix it" })).toHaveCount(0);
});
