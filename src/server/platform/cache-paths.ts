import path from "node:path";
import type { CachePaths } from "@/server/preparation/prepare-caches";

/** Where this Kiln keeps the app template's installed dependencies, the agents' CLIs and the preparation's records. */
export function cachePaths(dataDir: string): CachePaths {
  return {
    templateDir: path.resolve("templates/nextjs-app"),
    templateCacheRoot: path.join(dataDir, "templates"),
    toolchainsRoot: path.join(dataDir, "toolchains"),
    preparationDir: path.join(dataDir, "preparation"),
  };
}
