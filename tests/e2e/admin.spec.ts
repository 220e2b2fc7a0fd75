import { type Browser, expect, type Page, test } from "@playwright/test";
import { listServerActions } from "./app-surface";
import { E2E_ADMIN, E2E_BASE_URL } from "./env";
import { createOperator, createToken } from "./operators";

// Administrators (issue 11) against the real server: the first operator (KILN_ADMIN_EMAIL) invites an operator by
// a one-time link, the invitee sets a password with it and sees no admin page; the admin disables them and their
// session and API token are refused at once; an admin sets a quota and pauses all agent work.

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);
}

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

test("an admin invites an operator, who sets a password once and has no admin page; disabling them locks them out at once", async ({
  browser,
  page,
}) => {
  test.setTimeout(120_000);
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Admin", level: 1 })).toBeVisible();

  const email = `invited-${Date.now()}@kiln.test`;
  const form = page.getByRole("form", { name: "Add operator" });
  await form.getByLabel("Email").fill(email);
  await form.getByRole("button", { name: "Invite" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite link" });
  await expect(dialog).toBeVisible();
  const link = await dialog.getByLabel("One-time link").inputValue();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.locator(`tr[data-operator="${email}"]`);
  await expect(row.getByText("Operator", { exact: true }).filter({ visible: true })).toBeVisible();

  // The invitee sets a password with the link and lands signed in; the link then no longer works.
  const invitee = await newPage(browser);
  await invitee.goto(new URL(link).pathname);
  await expect(invitee.getByText(email)).toBeVisible();
  const password = "an invited battery 42";
  await invitee.getByLabel("New password").fill(password);
  await invitee.getByLabel("Repeat it").fill(password);
  await invitee.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(invitee).toHaveURL(/\/projects$/);
  const spent = await newPage(browser);
  await spent.goto(new URL(link).pathname);
  await expect(spent.getByText("This link no longer works")).toBeVisible();

  // Not an admin: no Admin link, and the page and the API answer 404.
  await expect(
    invitee.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }),
  ).toHaveCount(0);
  const adminPage = await invitee.goto("/admin");
  expect(adminPage?.status()).toBe(404);
  const apiAsInvitee = await invitee.request.get("/api/v1/admin/users");
  expect(apiAsInvitee.status()).toBe(404);
  const token = createToken(email, "e2e-admin");
  expect(
    (await invitee.request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } })).status(),
  ).toBe(200);

  // The admin disables them: their session and token are refused from the next request on.
  await page.reload();
  await row.getByRole("button", { name: `Disable ${email}` }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Disable operator" }).click();
  await expect(row.getByText("Disabled", { exact: true }).filter({ visible: true })).toBeVisible();

  await invitee.goto("/projects");
  await expect(invitee).toHaveURL(/\/login/);
  expect(
    (await invitee.request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } })).status(),
  ).toBe(401);
  await invitee.getByLabel("Email").fill(email);
  await invitee.getByLabel("Password").fill(password);
  await invitee.getByRole("button", { name: "Sign in" }).click();
  await expect(invitee.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");

  // The audit log has both, newest first.
  await page.reload();
  const audit = page.getByRole("region", { name: "Audit log" });
  await expect(audit.locator('tr[data-audit-action="operator.disable"]').first()).toContainText(email);
  await expect(audit.locator('tr[data-audit-action="operator.invite"]').first()).toContainText(email);
  await page.screenshot({ path: "test-results/e2e/artifacts/admin.png", fullPage: true });
});

test("an operator made with the CLI is not an admin: /admin and the admin API are 404", async ({ page }) => {
  const operator = createOperator();
  await signIn(page, operator.email, operator.password);
  expect((await page.goto("/admin"))?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Nothing here" })).toBeVisible();
  expect((await page.request.get("/api/v1/admin/audit")).status()).toBe(404);

  // The admin page's server actions answer a signed-in non-admin as if they did not exist.
  const adminActions = listServerActions().filter((action) => action.file.endsWith("actions/admin.ts"));
  expect(adminActions.map((action) => action.name).sort()).toEqual([
    "createOperatorAction",
    "resetOperatorPasswordAction",
    "updateOperatorAction",
  ]);
  for (const action of adminActions) {
    const response = await page.request.post(action.pagePath, {
      maxRedirects: 0,
      headers: {
        "next-action": action.id,
        "content-type": "text/plain;charset=UTF-8",
        accept: "text/x-component",
        origin: E2E_BASE_URL,
      },
      data: JSON.stringify([{ email: "mallory@kiln.test", userId: "usr_x", change: { role: "admin" } }]),
    });
    expect(await response.text(), action.name).toContain('"code":"not_found:route"');
  }
});

test("an admin sets an operator's quota and pauses all agent work: the operator is refused, naming why, and sees the banner until resumed", async ({
  browser,
  page,
}) => {
  test.setTimeout(120_000);
  const operator = createOperator();
  const token = createToken(operator.email, "e2e-quota");
  const newProject = (target: Page) =>
    target.request.post("/api/v1/projects", {
      headers: { authorization: `Bearer ${token}` },
      data: {
        prompt: "A guestbook",
        providers: { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" },
      },
    });

  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.goto("/admin");
  const row = page.locator(`tr[data-operator="${operator.email}"]`);
  await row.getByRole("button", { name: `Quotas of ${operator.email}` }).click();
  const quotas = page.getByRole("dialog", { name: `Quotas of ${operator.email}` });
  await quotas.getByLabel("Builds per day").fill("0");
  await quotas.getByRole("button", { name: "Save quotas" }).click();
  await expect(quotas).toBeHidden();
  await expect(page.locator(`tr[data-quota-operator="${operator.email}"]`)).toContainText("0 / 0");

  const overQuota = await newProject(page);
  expect(overQuota.status()).toBe(429);
  const quotaError = (await overQuota.json()) as { error: { code: string; message: string } };
  expect(quotaError.error.code).toBe("quota_exceeded");
  expect(quotaError.error.message).toMatch(/builds per day.*resets at \d{4}-\d\d-\d\d 00:00 UTC/);

  // Back to the platform default (no limit on the e2e server).
  await row.getByRole("button", { name: `Quotas of ${operator.email}` }).click();
  await quotas.getByLabel("Builds per day").fill("");
  await quotas.getByRole("button", { name: "Save quotas" }).click();
  await expect(quotas).toBeHidden();
  // A project of the operator's (without a model key its build stops at the plan), whose workspace is looked at
  // below while the banner shows.
  const allowed = await newProject(page);
  expect(allowed.status()).toBe(202);
  const created = (await allowed.json()) as { project: { id: string }; task: { id: string } };

  // The kill switch: a reason, a confirmation, and every page shows the banner.
  const reason = `Vendor outage ${Date.now()}`;
  await page.getByLabel("Reason (shown to everyone)").fill(reason);
  await page.getByRole("button", { name: "Pause all agent work" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Pause everything" }).click();
  await expect(page.getByRole("button", { name: "Resume agent work" })).toBeVisible();
  // Each bundled copy of the platform reads the pause through its own cache of at most 5 s: the promise is that
  // every server (and every copy) refuses new work within 10 s.
  const operatorPage = await newPage(browser);
  await signIn(operatorPage, operator.email, operator.password);
  await expect(async () => {
    await operatorPage.reload();
    await expect(operatorPage.getByTestId("pause-banner")).toContainText(reason, { timeout: 1000 });
  }).toPass({ timeout: 10_000 });
  let pausedError: { error: { code: string; message: string } } | undefined;
  await expect(async () => {
    const paused = await newProject(operatorPage);
    pausedError = (await paused.json()) as { error: { code: string; message: string } };
    expect(paused.status()).toBe(503);
  }).toPass({ timeout: 10_000 });
  expect(pausedError?.error.code).toBe("paused");
  expect(pausedError?.error.message).toContain(reason);
  await operatorPage.screenshot({ path: "test-results/e2e/artifacts/paused.png", fullPage: true });

  // The banner takes its row from the workspace, which still fits the window: the follow-up box stays in view and
  // the page does not scroll.
  await operatorPage.setViewportSize({ width: 1440, height: 900 });
  await operatorPage.goto(`/projects/${created.project.id}/tasks/${created.task.id}`);
  await expect(operatorPage.getByTestId("pause-banner")).toBeVisible();
  const followUp = await operatorPage.getByRole("textbox", { name: "Follow-up prompt" }).boundingBox();
  expect(followUp && followUp.y + followUp.height).toBeLessThanOrEqual(900);
  expect(
    await operatorPage.evaluate(() => document.documentElement.scrollHeight - window.innerHeight),
  ).toBeLessThanOrEqual(0);
  await operatorPage.screenshot({ path: "test-results/e2e/artifacts/paused-workspace.png" });

  await page.getByRole("button", { name: "Resume agent work" }).click();
  await expect(page.getByRole("button", { name: "Pause all agent work" })).toBeVisible();
  await expect(async () => {
    await operatorPage.reload();
    await expect(operatorPage.getByTestId("pause-banner")).toHaveCount(0, { timeout: 1000 });
  }).toPass({ timeout: 10_000 });
  const audit = page.getByRole("region", { name: "Audit log" });
  await page.reload();
  await expect(audit.locator('tr[data-audit-action="platform.resume"]').first()).toBeVisible();
  await expect(audit.locator('tr[data-audit-action="platform.pause"]').first()).toContainText(reason);
  await expect(audit.locator('tr[data-audit-action="operator.quotas"]').first()).toBeVisible();
});
