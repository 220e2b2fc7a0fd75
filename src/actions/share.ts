"use server";

import { z } from "zod";
import { type ShareLink, setShareLinkRevoked } from "@/server/sessions/share-link";
import { authedAction } from "./safe-action";

/** Revokes a task's share link (it then answers 404) or makes it public again. */
export const setShareLinkAction = authedAction(
  "setShareLink",
  z.object({ taskId: z.string().min(1).max(40), revoked: z.boolean() }),
  async ({ taskId, revoked }, { operator, db }): Promise<ShareLink> =>
    setShareLinkRevoked(db, operator.id, taskId, revoked),
);
