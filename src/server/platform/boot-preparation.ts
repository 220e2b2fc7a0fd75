import type { Env } from "@/server/config/env-schema";
import {
  type PreparationOutcome,
  preparationOrder,
  prepareCaches,
} from "@/server/preparation/prepare-caches";
import { cachePaths } from "./cache-paths";

// At boot, in the background: the template's dependencies and the agents' CLIs, so a fresh install's first project
// does not spend minutes in npm (src/server/preparation). The server is ready at once; a build that starts meanwhile
// joins the installs in flight. Once per process, whichever bundled copy of this module starts it.

const STARTED = Symbol.for("kiln.bootPreparation");

/** Starts the preparation once per process; the promise (for tests) never rejects. Undefined: not started here. */
export function startBootPreparation(env: Env): Promise<PreparationOutcome | undefined> | undefined {
  if (!env.KILN_PREPARE_AT_BOOT || Reflect.get(globalThis, STARTED)) return undefined;
  Reflect.set(globalThis, STARTED, true);
  const started = Date.now();
  const log = (message: string) => console.log(`[kiln] preparation: ${message}`);
  log("installing the app template's dependencies and the agents' CLIs in the background…");
  return prepareCaches({ ...cachePaths(env.dataDir), agents: preparationOrder, log })
    .then((outcome) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      if (outcome.failed.length === 0) log(`done in ${seconds} s`);
      else log(`${outcome.failed.join(", ")} failed after ${seconds} s; builds install them on first use`);
      return outcome;
    })
    .catch((error: unknown) => {
      // Never a crash: the builds install what they need as they always did.
      console.error("[kiln] preparation failed:", error instanceof Error ? error.message : error);
      return undefined;
    });
}
