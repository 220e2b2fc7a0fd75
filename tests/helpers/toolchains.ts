import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Where tests keep the real agent CLIs: installed once per machine into a cache shared by every test run (about
 * 760 MB; the first run downloads, later ones find it). Outside /tmp on purpose: local sandboxes replace /tmp, so a
 * cache elsewhere proves that `hidePaths` hides it and the read-only binds show the toolchains through.
 */
export function toolchainCacheRoot(): string {
  for (const base of ["/var/tmp", os.tmpdir()]) {
    try {
      const root = path.join(base, "kiln-toolchains-cache");
      fs.mkdirSync(root, { recursive: true });
      return root;
    } catch (error) {
      if (
        !(error instanceof Error && "code" in error && (error.code === "EACCES" || error.code === "EROFS"))
      ) {
        throw error;
      }
    }
  }
  throw new Error("no writable directory for the toolchain cache");
}
