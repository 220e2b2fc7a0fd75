import { expect, type Page, test } from "@playwright/test";
import { E2E_BASE_URL } from "./env";
import { createOperator, createToken } from "./operators";

// Issue 12's small bugs, seen as a user sees them: the sign-in's messages, confirmations before what cannot be
// undone, tab titles, a failure said once, no "(reconnecting…)" on a fresh load, the replay's 404 for strangers.

async function signIn(page: Page, email: string, password: string, to = "/projects") {
  await page.goto(to);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

test("an empty sign-in says what each field needs, in words", async ({ page }) => {
  await page.goto("/login");
  await page.waitForLoadState("networkidle");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Enter your email", { exact: true })).toBeVisible();
  await expect(page.getByText("Enter your password", { exact: true })).toBeVisible();
  await expect(page.getByText("email: Enter your email")).toHaveCount(0);
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
});

test("revoking an API token asks first", async ({ page }) => {
  const operator = createOperator();
  createToken(operator.email, "ci-token");
  await signIn(page, operator.email, operator.password, "/settings");
  const row = page.getByRole("row").filter({ hasText: "ci-token" });
  await row.getByRole("button", { name: "Revoke ci-token" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toContainText("Revoke “ci-token”?");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Revoke ci-token" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByRole("row").filter({ hasText: "ci-token" })).toHaveCount(0);
});

test("a workspace's tab names its project, a failure reads once, a fresh load is not reconnecting", async ({
  page,
}) => {
  const operator = createOperator();
  await signIn(page, operator.email, operator.password);
  await page.getByRole("textbox", { name: "What should Kiln build?" }).fill("A guestbook for my wedding");
  await page.getByRole("combobox", { name: "Coding agent" }).click();
  await page.getByRole("option", { name: "Claude Code" }).click();
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/prj_\w+\/tasks\/\w+/);
  // This server has no Anthropic key: the build stops at the plan step, and says why once.
  const why = "No Anthropic key is set: add one in Settings to build with this agent.";
  await expect(page.getByText(why, { exact: false }).first()).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(why, { exact: false })).toHaveCount(1);

  const breadcrumb = page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link").nth(1);
  const projectName = ((await breadcrumb.textContent()) ?? "").trim();
  expect(projectName).not.toBe("");
  await expect(page).toHaveTitle(new RegExp(`${projectName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} · Kiln$`));
  await expect(page).not.toHaveTitle("Workspace · Kiln");

  // The page as served (before its stream connects) and once loaded: connecting is not reconnecting.
  const served = await page.request.get(page.url());
  expect(await served.text()).not.toContain("(reconnecting…)");
  await page.reload();
  await expect(page.getByText(why, { exact: false }).first()).toBeVisible();
  await expect(page.getByText("(reconnecting…)")).toHaveCount(0);

  await breadcrumb.click();
  await expect(page).toHaveURL(/\/projects\/prj_\w+$/);
  await expect(page).toHaveTitle(`${projectName} · Kiln`);
});

test("a replay link that does not exist offers a stranger no way into the operator's app", async ({
  browser,
}) => {
  const stranger = await browser.newContext();
  const page = await stranger.newPage();
  const response = await page.goto(`${E2E_BASE_URL}/s/no-such-replay-link-0000`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText("404")).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to projects" })).toHaveCount(0);
  await stranger.close();
});
