"use server";

import { z } from "zod";
import { cancelAndStop } from "@/server/operations/cancel-revision";
import { startFollowUp } from "@/server/operations/start-follow-up";
import { startRedeploy } from "@/server/operations/start-redeploy";
import { startRestore } from "@/server/operations/start-restore";
import { startWake } from "@/server/operations/start-wake";
import { followUpInputSchema } from "@/server/revisions/create-revision";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { authedAction } from "./safe-action";

// The workspace's checkpoint actions: the same domain calls as the REST API (src/app/api/v1/revisions/…).

const ids = { projectId: z.string().min(1).max(40), taskId: z.string().min(1).max(40) };
const revisionRef = z.object({ revisionId: z.string().min(1).max(40) });

export const sendFollowUpAction = authedAction(
  "sendFollowUp",
  followUpInputSchema.extend(ids),
  async (input, { operator, platform }): Promise<RevisionDto> => startFollowUp(platform, operator.id, input),
);

export const cancelRevisionAction = authedAction(
  "cancelRevision",
  revisionRef,
  async ({ revisionId }, { operator, platform }): Promise<RevisionDto> =>
    cancelAndStop(platform, operator.id, revisionId),
);

export const restoreRevisionAction = authedAction(
  "restoreRevision",
  revisionRef,
  async ({ revisionId }, { operator, platform }): Promise<RevisionDto> =>
    startRestore(platform, operator.id, revisionId),
);

export const wakePreviewAction = authedAction(
  "wakePreview",
  revisionRef,
  async ({ revisionId }, { operator, platform }): Promise<RevisionDto> =>
    startWake(platform, operator.id, revisionId),
);

export const redeployRevisionAction = authedAction(
  "redeployRevision",
  revisionRef,
  async ({ revisionId }, { operator, platform }): Promise<RevisionDto> =>
    startRedeploy(platform, operator.id, revisionId),
);
