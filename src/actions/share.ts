"use server";

import { z } from "zod";
import { setShareLinkRevoked } from "@/server/share-links/share-link";
import type { ShareLink } from "@/server/share-links/share-link-types";
import { authedAction } from "./safe-action";

/** Revokes a task's share link (it then answers 404) or makes it public again. */
export const setShareLinkAction = authedAction(
  "setShareLink",
  z.object({ taskId: z.string().min(1).max(40), revoked: z.boolean() }),
  async ({ taskId, revoked }, { operator, platform }): Promise<ShareLink> =>
    setShareLinkRevoked(platform.db, platform.publicUrl, operator.id, taskId, revoked),
);
