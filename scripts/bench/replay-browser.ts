import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { ensureSecretKeyFile } from "../../src/server/crypto/secret-key";
import { openDatabase } from "../../src/server/db/connection";
import { migrateToLatest } from "../../src/server/db/migrator";
import { chromiumPath } from "../../tests/e2e/env";
import { seedReplaySession } from "./replay.bench";
import { type BenchRow, percentile, printTable } from "./stats";

// The replay page of a 10,000-event session in Chromium, against a production build: `npm run bench -- replay`
// runs it when `.next/BUILD_ID` exists (`next build` first), or `npx tsx scripts/bench/replay-browser.ts` alone.
//
// A fresh data dir gets the seeded session (finished, so no reconciler touches it), `next start` serves it, and
// each run opens the share link in a new browser context (cold browser cache, warm server) and records:
// - "hydrated": when the Play button has React's handler attached (the page answers input from then on);
// - "Play responds": from that moment, a click on Play until the button reads "Pause" (main thread free);
// - DOMContentLoaded and load, for reference.

const RUNS = 8;
const PORT = Number(process.env.KILN_BENCH_PORT ?? 3290);
const BASE = `http://127.0.0.1:${PORT}`;

/** Records when the Play button has React's props on it (hydrated), checked every frame from the start. */
const HYDRATION_PROBE = `(() => {
  const check = () => {
    const button = document.querySelector('[aria-label="Play replay"]');
    if (button && Object.keys(button).some((key) => key.startsWith("__reactProps$"))) {
      window.__hydratedAt = performance.now();
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})()`;

/** Clicks Play and resolves with the time until the button reads "Pause". */
const CLICK_PLAY = `new Promise((resolve) => {
  const started = performance.now();
  document.querySelector('[aria-label="Play replay"]').click();
  const check = () => {
    if (document.querySelector('[aria-label="Pause replay"]')) resolve(performance.now() - started);
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})`;

async function waitForServer(server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}`);
    try {
      const response = await fetch(`${BASE}/login`);
      if (response.ok) return;
    } catch (error) {
      // Not listening yet: try again shortly.
      if (!(error instanceof TypeError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("next start did not answer within 2 minutes");
}

/** The browser rows; `npm run bench -- replay` adds them when a production build exists. */
export async function runReplayBrowser(): Promise<BenchRow[]> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("No Chromium (CHROMIUM_PATH or /usr/bin/chromium)");
  if (!fs.existsSync(".next/BUILD_ID")) throw new Error("No production build here: run `next build` first");

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-replay-browser-"));
  ensureSecretKeyFile(undefined, dataDir);
  const file = path.join(dataDir, "kiln.db");
  const db = await openDatabase({ dialect: "sqlite", url: `file:${file}`, file });
  await migrateToLatest(db);
  const project = await seedReplaySession(db);
  // A finished session: the reconciler leaves it alone, and the page needs no live stream once caught up.
  await db
    .updateTable("revision")
    .set({ status: "finished", finished_at: Date.now() })
    .where("id", "=", project.revisionId)
    .execute();
  await db.updateTable("sandbox").set({ status: "stopped", stopped_at: Date.now() }).execute();
  await db.destroy();

  const require = createRequire(import.meta.url);
  const server = spawn(
    process.execPath,
    [require.resolve("next/dist/bin/next"), "start", "-p", String(PORT), "-H", "127.0.0.1"],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
        KILN_DATA_DIR: dataDir,
        KILN_PUBLIC_URL: BASE,
        DATABASE_URL: "",
        KILN_SECRET_KEY: "",
      },
    },
  );
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    await waitForServer(server);
    const url = `${BASE}/s/${project.slug}`;
    const samples = {
      hydrated: [] as number[],
      click: [] as number[],
      dcl: [] as number[],
      load: [] as number[],
    };
    let htmlBytes = 0;
    for (let run = -1; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      // Scripts for the page are strings: tsx would wrap functions in helpers the page does not have.
      await page.addInitScript(HYDRATION_PROBE);
      const response = await page.goto(url, { waitUntil: "load" });
      if (response?.status() !== 200) throw new Error(`the replay page answered ${response?.status()}`);
      htmlBytes = (await response.body()).byteLength;
      await page.waitForFunction("window.__hydratedAt !== undefined");
      const clicked = await page.evaluate<number>(CLICK_PLAY);
      const timing = await page.evaluate<{ hydrated: number; dcl: number; load: number }>(`(() => {
        const [navigation] = performance.getEntriesByType("navigation");
        return {
          hydrated: window.__hydratedAt,
          dcl: navigation.domContentLoadedEventEnd,
          load: navigation.loadEventEnd,
        };
      })()`);
      // The first load warms the server (compiled routes, caches); it is not counted.
      if (run >= 0) {
        samples.hydrated.push(timing.hydrated);
        samples.click.push(clicked);
        samples.dcl.push(timing.dcl);
        samples.load.push(timing.load);
      }
      await context.close();
    }
    const row = (name: string, values: number[], goal?: string): BenchRow => {
      const sorted = [...values].sort((a, b) => a - b);
      return {
        name,
        runs: sorted.length,
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        unit: "ms",
        goal,
      };
    };
    return [
      row(
        "replay page, 10,000 events, Chromium 390 px: hydrated (Play is live)",
        samples.hydrated,
        "≤ 1,000 ms",
      ),
      row("  then a click on Play until it reads Pause", samples.click),
      row("  DOMContentLoaded", samples.dcl),
      row("  load", samples.load),
      { name: "  page HTML transferred", runs: 1, p50: htmlBytes / 1024, p95: htmlBytes / 1024, unit: "KB" },
    ];
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx scripts/bench/replay-browser.ts` (after `next build`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runReplayBrowser()
    .then(printTable)
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
