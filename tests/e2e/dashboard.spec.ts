import { expect, type Page, test } from "@playwright/test";
import { createOperator } from "./operators";

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/projects");
  await expect(page).toHaveURL(/\/login\?next=%2Fprojects/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe("dashboard", () => {
  test("sign in, see the empty state, create a project, rename it, find it, open it from its card, delete it", async ({
    page,
  }) => {
    const operator = createOperator();
    await signIn(page, operator.email, operator.password);

    await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible();
    await page.screenshot({ path: "test-results/e2e/artifacts/empty-state.png", fullPage: true });

    // An example prompt fills the create box.
    const promptBox = page.getByRole("textbox", { name: "What should Kiln build?" });
    await page.getByRole("button", { name: "Habit tracker" }).click();
    await expect(promptBox).toHaveValue(/^A habit tracker: add habits/);
    await expect(promptBox).toBeFocused();
    await page.screenshot({ path: "test-results/e2e/artifacts/empty-state-example.png", fullPage: true });

    await promptBox.fill("A habit tracker with streaks");
    await page.getByRole("combobox", { name: "Coding agent" }).click();
    await page.getByRole("option", { name: "Claude Code" }).click();
    await page.getByRole("button", { name: "Create project" }).click();

    // Straight into the task's workspace, which follows the build live.
    await expect(page).toHaveURL(/\/projects\/prj_\w+\/tasks\/\w+/);
    const workspaceUrl = page.url();
    await expect(page.getByRole("heading", { name: /A habit tracker with streaks/ })).toBeVisible();
    // This server has no model key: the build (Claude Code, so Anthropic) stops at the plan step and says what to
    // do. The page learns it from the event stream, without a reload.
    await expect(
      page.getByText("No Anthropic key is set: add one in Settings to build with this agent.").first(),
    ).toBeVisible({ timeout: 20_000 });
    await page.screenshot({ path: "test-results/e2e/artifacts/workspace-failed.png", fullPage: true });

    // The header renames the project inline: an empty name is refused with the reason, a real one is kept.
    await page.getByRole("button", { name: "Rename “A habit tracker with streaks”" }).click();
    const nameBox = page.getByRole("textbox", { name: "Project name" });
    await nameBox.fill("   ");
    await nameBox.press("Enter");
    await expect(page.getByText("Name the project", { exact: true })).toBeVisible();
    await nameBox.fill("Streaks");
    await nameBox.press("Enter");
    await expect(page.getByRole("heading", { name: "Streaks", level: 1 })).toBeVisible();
    const breadcrumb = page.getByRole("navigation", { name: "Breadcrumb" });
    await expect(breadcrumb.getByRole("link", { name: "Streaks" })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("heading", { name: "Streaks", level: 1 })).toBeVisible();

    await breadcrumb.getByRole("link", { name: "Streaks" }).click();
    await expect(page).toHaveURL(/\/projects\/prj_\w+$/);
    await expect(page.getByText(/^failed$/i).first()).toBeVisible();
    await expect(
      page.getByText("No Anthropic key is set: add one in Settings to build with this agent."),
    ).toBeVisible();
    // The task keeps its own title.
    await expect(page.getByRole("link", { name: "A habit tracker with streaks" })).toBeVisible();
    await page.screenshot({ path: "test-results/e2e/artifacts/project.png", fullPage: true });

    await page.getByRole("link", { name: "Projects", exact: true }).first().click();
    await expect(page.getByRole("link", { name: "Streaks" })).toBeVisible();
    // It never built: the card says so (no working version exists).
    await expect(page.getByRole("listitem").getByText("Failed", { exact: true })).toBeVisible();
    await page.screenshot({ path: "test-results/e2e/artifacts/dashboard.png", fullPage: true });

    // Search filters by name, in the URL, on the server.
    const search = page.getByRole("searchbox", { name: "Search projects" });
    await search.fill("STREAK");
    await expect(page).toHaveURL(/\/projects\?q=STREAK$/);
    await expect(page.getByText("1 project matching “STREAK”")).toBeVisible();
    await expect(page.getByRole("link", { name: "Streaks" })).toBeVisible();
    await search.fill("no such app");
    await expect(page.getByText("No project name contains “no such app”.")).toBeVisible();
    await expect(page.getByRole("link", { name: "Streaks" })).toHaveCount(0);
    await search.fill("");
    await expect(page).toHaveURL(/\/projects$/);

    // The card opens the workspace, not the project page.
    await page.getByRole("link", { name: "Streaks" }).click();
    await expect(page).toHaveURL(workspaceUrl);
    await expect(page.getByRole("heading", { name: "Streaks", level: 1 })).toBeVisible();

    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Streaks" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("alertdialog");
    await expect(dialog).toContainText("cannot be undone");
    await dialog.getByRole("button", { name: "Delete project" }).click();

    await expect(page).toHaveURL(/\/projects$/);
    await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible();
  });

  test("choosing a provider that is not configured explains what is missing", async ({ page }) => {
    const operator = createOperator();
    await signIn(page, operator.email, operator.password);
    await page.getByRole("textbox", { name: "What should Kiln build?" }).fill("A guestbook");
    await page.getByText("Providers", { exact: true }).first().click();
    await page.getByRole("combobox", { name: "Git host" }).click();
    await page.getByRole("option", { name: "GitHub (not configured)" }).click();
    await page.getByRole("button", { name: "Create project" }).click();
    await expect(page.getByText("GitHub needs a GitHub token: add one in Settings.")).toBeVisible();
    await expect(page).toHaveURL(/\/projects$/);
  });

  test("a wrong password says so, and repeated failures are rate limited with a clear message", async ({
    page,
  }) => {
    const operator = createOperator();
    await signIn(page, operator.email, "not-the-password");
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");

    for (let attempt = 2; attempt <= 5; attempt++) {
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");
    }
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText(
      /Too many sign-in attempts\. Try again in \d+ minutes?\./,
    );

    // Even the right password is refused while the account is locked.
    await page.getByLabel("Password").fill(operator.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText(/Too many sign-in attempts/);
    await expect(page).toHaveURL(/\/login/);
  });

  test("API tokens: shown once, usable, revocable from settings; sign out ends the session", async ({
    page,
    request,
  }) => {
    const operator = createOperator();
    await signIn(page, operator.email, operator.password);
    await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible();

    await page.getByRole("link", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "Credentials" })).toBeVisible();
    await expect(page.getByText("Not set").first()).toBeVisible();
    await page.getByLabel("Token name").fill("laptop");
    await page.getByRole("button", { name: "Create token" }).click();
    const tokenField = page.getByRole("textbox", { name: "New API token" });
    await expect(tokenField).toHaveValue(/^kiln_/);
    const token = await tokenField.inputValue();
    await page.getByRole("button", { name: "Done" }).click();
    await page.screenshot({ path: "test-results/e2e/artifacts/settings.png", fullPage: true });

    const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
    expect((await me.json()).user.email).toBe(operator.email);
    await expect(page.getByRole("cell", { name: "laptop", exact: true })).toBeVisible();
    await expect(page.getByText(token)).toHaveCount(0);

    await page.getByRole("button", { name: "Revoke laptop" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Revoke token" }).click();
    await expect(page.getByRole("cell", { name: "laptop", exact: true })).toHaveCount(0);
    const after = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
    expect(after.status()).toBe(401);

    await page.getByRole("button", { name: "Account menu" }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/settings");
    await expect(page).toHaveURL(/\/login\?next=%2Fsettings/);
  });
});
