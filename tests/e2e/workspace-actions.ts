import { type BrowserContext, expect, type Page } from "@playwright/test";
import { E2E_MODEL_CONTROL_URL, E2E_MODEL_KEY, E2E_MODEL_URL } from "./env";
import { createOperator } from "./operators";

// Steps several specs take in the workspace, as an operator would.

/**
 * A new operator signs in from /projects and saves their own OpenAI key, pointing at the scripted vendor (as a key
 * for a compatible server would): where the workspace specs begin. Returns the operator.
 */
export async function signInWithScriptedModel(page: Page): Promise<{ email: string; password: string }> {
  const operator = createOperator();
  await page.goto("/projects");
  await page.getByLabel("Email").fill(operator.email);
  await page.getByLabel("Password").fill(operator.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible();
  const saved = await page.request.put("/api/v1/credentials/openai", {
    data: { apiKey: E2E_MODEL_KEY, baseUrl: `${E2E_MODEL_URL}/v1` },
  });
  expect(saved.status()).toBe(200);
  return operator;
}

/** Types the prompt on the dashboard and creates the project: the workspace of its main task opens. */
export async function createProjectFromDashboard(
  page: Page,
  prompt: string,
): Promise<{ projectId: string; taskId: string }> {
  await page.getByRole("textbox", { name: "What should Kiln build?" }).fill(prompt);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/prj_\w+\/tasks\/tsk_\w+/);
  const [, projectId = "", taskId = ""] = /\/projects\/(prj_\w+)\/tasks\/(tsk_\w+)/.exec(page.url()) ?? [];
  return { projectId, taskId };
}

/** Switches the scripted model to these scenarios (tests/fixtures/scenarios), merged in order. */
export async function useScript(parts: string[]): Promise<void> {
  const response = await fetch(`${E2E_MODEL_CONTROL_URL}/scenario`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ parts }),
  });
  expect(response.status).toBe(200);
}

/** Share → "Copy share link", read back from the clipboard. */
export async function copyShareLink(page: Page, context: BrowserContext): Promise<string> {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Share" }).click();
  await page.getByRole("menuitem", { name: "Copy share link" }).click();
  const shareUrl = await page.evaluate(() => navigator.clipboard.readText());
  expect(shareUrl).toMatch(/\/s\/[0-9a-z]{22,}$/);
  return shareUrl;
}
