import "server-only";
import { recordAudit } from "@/server/audit/record-audit";
import { deletePlatformPause } from "@/server/db/queries/quotas";
import type { Platform } from "@/server/platform/platform";
import type { ClientMeta } from "./pause-platform";

/** Lifts the kill switch: new work is accepted again (by other servers within their cache window). */
export async function resumePlatform(
  platform: Platform,
  input: { by: string | null; from?: ClientMeta },
): Promise<{ resumed: boolean }> {
  const resumed = await deletePlatformPause(platform.db);
  await platform.pause.fresh();
  if (resumed) {
    await recordAudit(platform.db, {
      actorId: input.by,
      action: "platform.resume",
      ip: input.from?.ip,
      userAgent: input.from?.userAgent,
    });
  }
  return { resumed };
}
