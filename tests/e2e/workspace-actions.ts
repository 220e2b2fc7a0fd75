import { type BrowserContext, expect, type Page } from "@playwright/test";
import { E2E_MODEL_CONTROL_URL } from "./env";

// Steps several specs take in the workspace, as an operator would.

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
