import "server-only";
import { deletePlatformPause } from "@/server/db/queries/quotas";
import type { Platform } from "@/server/platform/platform";

/** Lifts the kill switch: new work is accepted again (other servers within their cache window). */
export async function resumePlatform(platform: Platform): Promise<{ resumed: boolean }> {
  const resumed = await deletePlatformPause(platform.db);
  await platform.pause.fresh();
  return { resumed };
}
