import fs from "node:fs";
import path from "node:path";

/**
 * Discards what an earlier `next dev` left in this checkout (`.next/dev`: its output and Turbopack's persistent
 * compile cache), so the next one starts as on a fresh clone. For test servers only: a cache left by a dev server
 * that was stopped mid-write (a test's SIGTERM, then SIGKILL) can make the next one panic ("task is missing in memory
 * or persistent storage") and abort mid-run. `npm run dev` keeps its cache. The production build (`.next`) is untouched.
 */
export function discardDevOutput(dir: string = process.cwd()): void {
  fs.rmSync(path.join(dir, ".next", "dev"), { recursive: true, force: true });
}
