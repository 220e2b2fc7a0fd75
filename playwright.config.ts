import { defineConfig } from "@playwright/test";
import {
  chromiumPath,
  E2E_BASE_URL,
  E2E_LEG,
  E2E_MODEL_CONTROL_URL,
  E2E_PORT,
  e2eServerEnv,
} from "./tests/e2e/env";

const executablePath = chromiumPath();
if (!executablePath) {
  console.warn(
    "\n!!! E2E SKIPPED: no Chromium found (CHROMIUM_PATH or /usr/bin/chromium). Install it with: apt-get install -y chromium\n",
  );
}

// The MySQL legs run the control-plane specs: sign-in, a credential, a build through the webhook, the replay; and
// the sign-in hardening (its log check can fail only under `next dev`, which logs server-function arguments). The
// production MySQL leg also runs the durability spec (two servers of its own on one database, one SIGKILLed).
const mysqlLeg = E2E_LEG !== "libsql";
const devServer = E2E_LEG === "mysql-dev";
const mysqlSpecs = ["control-plane.spec.ts", "sign-in-hardening.spec.ts"];

export default defineConfig({
  testDir: "tests/e2e",
  testMatch: mysqlLeg ? (devServer ? mysqlSpecs : [...mysqlSpecs, "durability.spec.ts"]) : ["*.spec.ts"],
  outputDir: "test-results/e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: E2E_BASE_URL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: executablePath ?? undefined,
      // Offline machine: keep Chromium from reaching for Google's services at start.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: executablePath
    ? [
        {
          // The scripted model vendor the workspace spec builds with (tests/e2e/scripted-model.ts).
          command: "npx tsx tests/e2e/scripted-model.ts",
          url: `${E2E_MODEL_CONTROL_URL}/health`,
          timeout: 30_000,
          reuseExistingServer: false,
          stdout: "ignore",
          stderr: "pipe",
        },
        {
          // The build comes first (`npm run test:e2e` runs it): the specs read its server-action manifest. The
          // dev leg compiles on demand instead. /login without a cookie does not touch the database, so the
          // reconciler's first pass (which specs wait for) opens the shared pool before any route does.
          command: `npx tsx scripts/e2e-server.ts${devServer ? " --dev" : ""} -p ${E2E_PORT} -H 127.0.0.1`,
          url: `${E2E_BASE_URL}/login`,
          timeout: devServer ? 240_000 : 120_000,
          reuseExistingServer: false,
          env: e2eServerEnv,
          stdout: "ignore",
          stderr: "pipe",
        },
      ]
    : undefined,
});
