import type { Executor } from "@/server/db/connection";
import {
  findShareSessionOfUserTask,
  setShareSessionRevokedOfUserTask,
} from "@/server/db/queries/share-links";
import { AppError } from "@/server/errors";
import type { ShareLink } from "./share-link-types";

// An operator's share link of a task: its public URL, and turning it off (the replay page and its stream then
// answer 404, and open streams close at their next check) or on again (the same slug works again).

/** The replay page of a share link on this Kiln (`publicUrl`: the platform's KILN_PUBLIC_URL). */
export function shareUrl(slug: string, publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/s/${slug}`;
}

/** The share link of one of the operator's tasks; another operator's task is not_found:task. */
export async function getShareLink(
  db: Executor,
  publicUrl: string,
  userId: string,
  taskId: string,
): Promise<ShareLink> {
  const session = await findShareSessionOfUserTask(db, userId, taskId);
  if (!session) throw new AppError("not_found:task");
  return { slug: session.slug, url: shareUrl(session.slug, publicUrl), revoked: session.revoked_at !== null };
}

/** Revokes the link (`revoked: true`) or makes it public again (`false`). Idempotent. */
export async function setShareLinkRevoked(
  db: Executor,
  publicUrl: string,
  userId: string,
  taskId: string,
  revoked: boolean,
): Promise<ShareLink> {
  const now = Date.now();
  if (!(await setShareSessionRevokedOfUserTask(db, userId, taskId, revoked ? now : null, now))) {
    throw new AppError("not_found:task");
  }
  return getShareLink(db, publicUrl, userId, taskId);
}
