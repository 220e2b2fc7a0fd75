"use server";

import { z } from "zod";
import { followUpInputSchema } from "@/server/revisions/create-revision";
import type { RevisionDto } from "@/server/revisions/revision-dto";
import { cancelAndStop, startFollowUp, startRestore, startWake } from "@/server/revisions/start-revision";
import { authedAction } from "./safe-action";

// The workspace's checkpoint actions: the same domain calls as the REST API (src/app/api/v1/revisions/…).

const ids = { projectId: z.string().min(1).max(40), taskId: z.string().min(1).max(40) };
const revisionRef = z.object({ revisionId: z.string().min(1).max(40) });

export const sendFollowUpAction = authedAction(
  "sendFollowUp",
  followUpInputSchema.extend(ids),
  async (input, { operator, db }): Promise<RevisionDto> => startFollowUp(db, operator.id, input),
);

export const cancelRevisionAction = authedAction(
  "cancelRevision",
  revisionRef,
  async ({ revisionId }, { operator, db }): Promise<RevisionDto> =>
    cancelAndStop(db, operator.id, revisionId),
);

export const restoreRevisionAction = authedAction(
  "restoreRevision",
  revisionRef,
  async ({ revisionId }, { operator, db }): Promise<RevisionDto> => startRestore(db, operator.id, revisionId),
);

export const wakePreviewAction = authedAction(
  "wakePreview",
  revisionRef,
  async ({ revisionId }, { operator, db }): Promise<RevisionDto> => startWake(db, operator.id, revisionId),
);
