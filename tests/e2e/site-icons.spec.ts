import { expect, test } from "@playwright/test";
import { E2E_BASE_URL } from "./env";

// Kiln's tab shows its own icon, and loading a page asks for nothing that is missing (no favicon 404 per page).

test("the sign-in page names Kiln's icons and every request it makes is answered", async ({ page }) => {
  const missing: string[] = [];
  page.on("response", (response) => {
    if (response.status() === 404) missing.push(response.url());
  });
  await page.goto(`${E2E_BASE_URL}/login`);
  await expect(page.locator('link[rel="icon"][href^="/favicon.svg"]')).toHaveCount(1);
  await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveCount(1);
  await page.waitForLoadState("networkidle");
  expect(missing).toEqual([]);
});

test("the icons and the web manifest are served as images and JSON", async ({ request }) => {
  for (const [file, type] of [
    ["/favicon.ico", /image\//],
    ["/favicon.svg", /image\/svg\+xml/],
    ["/apple-touch-icon.png", /image\/png/],
    ["/icon-512.png", /image\/png/],
  ] as const) {
    const response = await request.get(`${E2E_BASE_URL}${file}`);
    expect(response.status(), file).toBe(200);
    expect(response.headers()["content-type"], file).toMatch(type);
  }
  const manifest = await request.get(`${E2E_BASE_URL}/site.webmanifest`);
  expect(manifest.status()).toBe(200);
  const body: unknown = await manifest.json();
  expect(body).toMatchObject({ name: "Kiln", icons: [{ sizes: "192x192" }, { sizes: "512x512" }] });
});
