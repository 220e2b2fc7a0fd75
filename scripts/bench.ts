import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type BenchRow, printTable } from "./bench/stats";

// `npm run bench`: every suite in scripts/bench/*.bench.ts (each exports `run(): Promise<BenchRow[]>`), one table.
// `npm run bench -- sandboxes` runs only the suites whose file name contains "sandboxes".
// Suites that need MySQL include it when KILN_TEST_MYSQL_URL is set.

type Suite = { run: () => Promise<BenchRow[]> };

function isSuite(value: unknown): value is Suite {
  return typeof value === "object" && value !== null && "run" in value && typeof value.run === "function";
}

async function main() {
  const filter = process.argv[2];
  const dir = path.join(import.meta.dirname, "bench");
  const files = fs
    .readdirSync(dir)
    .filter((file) => file.endsWith(".bench.ts") && (!filter || file.includes(filter)))
    .sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const suite: unknown = await import(pathToFileURL(path.join(dir, file)).href);
    if (!isSuite(suite)) throw new Error(`${file} does not export run()`);
    console.error(`… ${file}`);
    rows.push(...(await suite.run()));
  }
  if (!process.env.KILN_TEST_MYSQL_URL)
    console.log("(MySQL rows skipped: set KILN_TEST_MYSQL_URL to include them)\n");
  printTable(rows);
}

// Exit once the table is printed: a suite's sandboxes and servers are stopped by then, but a pipeline suite's
// leftover keep-alive sockets and child pipes could hold the event loop (and any lock the caller holds) for minutes.
main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
