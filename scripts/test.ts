import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { chromiumPath } from "../tests/e2e/env";

// `npm test`: unit + integration (Vitest), then e2e (Playwright in the system Chromium), then one closing line
// "N passed, N failed". In CI (CI=true) the MySQL legs (integration and e2e) and e2e are mandatory: a run that
// skipped any of them fails.

const ci = process.env.CI === "true" || process.env.CI === "1";
const reportDir = path.resolve("test-results");
fs.mkdirSync(reportDir, { recursive: true });

type Counts = { passed: number; failed: number; skipped: number };
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
const problems: string[] = [];

function run(command: string, args: string[], env: Record<string, string> = {}): number {
  console.log(`\n$ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function readJson(file: string): unknown {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
}

// The runners' JSON reports, read as far as this script needs them. A report that does not parse counts as missing,
// which fails the run: a summary must never be made up from a shape we did not check.
const vitestReportSchema = z.object({
  numPassedTests: z.number(),
  numFailedTests: z.number(),
  numPendingTests: z.number(),
  numTodoTests: z.number(),
  testResults: z.array(
    z.object({ assertionResults: z.array(z.object({ fullName: z.string(), status: z.string() })) }),
  ),
});
const playwrightReportSchema = z.object({
  stats: z.object({ expected: z.number(), unexpected: z.number(), skipped: z.number(), flaky: z.number() }),
});

function readReport<T>(file: string, schema: z.ZodType<T>): T | undefined {
  const parsed = schema.safeParse(readJson(file));
  return parsed.success ? parsed.data : undefined;
}

/** Integration suites are named "… on 'mysql'" / "… on 'libsql'" (tests/helpers/databases.ts). */
function passedOnMysql(file: string): number {
  return (readReport(file, vitestReportSchema)?.testResults ?? [])
    .flatMap((suite) => suite.assertionResults)
    .filter((test) => test.status === "passed" && / on '?mysql\b/.test(test.fullName)).length;
}

function failedVitestTests(file: string): string[] {
  return (readReport(file, vitestReportSchema)?.testResults ?? [])
    .flatMap((suite) => suite.assertionResults)
    .filter((test) => test.status === "failed")
    .map((test) => test.fullName);
}

function vitestCounts(file: string): Counts | undefined {
  const report = readReport(file, vitestReportSchema);
  if (!report) return undefined;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

function playwrightCounts(file: string): Counts | undefined {
  const report = readReport(file, playwrightReportSchema);
  if (!report) return undefined;
  return {
    passed: report.stats.expected + report.stats.flaky,
    failed: report.stats.unexpected,
    skipped: report.stats.skipped,
  };
}

function add(label: string, counts: Counts | undefined, exitCode: number) {
  if (!counts) {
    problems.push(`${label}: no report was written (exit code ${exitCode})`);
    total.failed += 1;
    return;
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  if (exitCode !== 0 && counts.failed === 0) {
    problems.push(`${label}: exited with ${exitCode}`);
    total.failed += 1;
  }
}

// 1. Unit + integration.
if (!process.env.KILN_TEST_MYSQL_URL) {
  const line = "MySQL leg SKIPPED: set KILN_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test to run it.";
  if (ci) problems.push(`CI requires the MySQL leg. ${line}`);
  else console.warn(`\n!!! ${line}\n`);
}
const vitestReport = path.join(reportDir, "vitest.json");
fs.rmSync(vitestReport, { force: true });
const vitestExit = run("npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile=${vitestReport}`,
]);
add("vitest", vitestCounts(vitestReport), vitestExit);
// Named again next to the closing line, so a log cut to its tail still says what failed.
for (const name of failedVitestTests(vitestReport)) problems.push(`failed: ${name}`);
const mysqlPassed = passedOnMysql(vitestReport);
console.log(
  `MySQL leg: ${mysqlPassed} tests passed against ${process.env.KILN_TEST_MYSQL_URL ?? "(not set)"}`,
);
if (ci && mysqlPassed === 0) problems.push("CI requires the MySQL leg, but no test passed against MySQL");

// 2. End to end.
if (!chromiumPath()) {
  const line =
    "E2E SKIPPED: no Chromium at CHROMIUM_PATH or /usr/bin/chromium. Install it: apt-get install -y chromium";
  if (ci) problems.push(`CI requires e2e. ${line}`);
  else console.warn(`\n!!! ${line}\n`);
} else {
  const buildExit = run("npx", ["next", "build"]);
  if (buildExit !== 0) {
    problems.push("e2e: next build failed");
    total.failed += 1;
  } else {
    // Three legs: every spec on the embedded database; the control-plane specs on MySQL under `next start` and
    // under `next dev` (where bundles hold their own copies of modules that share the database pool).
    const legs = process.env.KILN_TEST_MYSQL_URL ? ["libsql", "mysql", "mysql-dev"] : ["libsql"];
    if (!process.env.KILN_TEST_MYSQL_URL) {
      const line = "E2E MySQL legs SKIPPED: set KILN_TEST_MYSQL_URL to run them.";
      if (ci) problems.push(`CI requires the MySQL e2e legs. ${line}`);
      else console.warn(`\n!!! ${line}\n`);
    }
    for (const leg of legs) {
      const e2eReport = path.join(reportDir, `playwright-${leg}.json`);
      fs.rmSync(e2eReport, { force: true });
      const e2eExit = run("npx", ["playwright", "test", "--reporter=list,json"], {
        PLAYWRIGHT_JSON_OUTPUT_NAME: e2eReport,
        KILN_E2E_LEG: leg,
      });
      const e2e = playwrightCounts(e2eReport);
      add(`playwright (${leg})`, e2e, e2eExit);
      if (ci && (e2e?.passed ?? 0) === 0) problems.push(`CI requires e2e, but no e2e test passed on ${leg}`);
    }
  }
}

for (const problem of problems) console.error(`✖ ${problem}`);
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || problems.length > 0 ? 1 : 0);
