import type { Executor } from "@/server/db/connection";
import type { ProvidersFor } from "./committed-checkpoint";
import { highlightDiff } from "./highlight-diff";
import { getRevisionDiff } from "./revision-diff";
import type { HighlightedDiff } from "./revision-diff-types";

/** The Changes tab: what checkpoint `revisionId` changed (`getRevisionDiff`, same rules), its patches coloured. */
export async function getHighlightedRevisionDiff(
  db: Executor,
  userId: string,
  revisionId: string,
  providersFor: ProvidersFor,
): Promise<HighlightedDiff> {
  return highlightDiff(await getRevisionDiff(db, userId, revisionId, providersFor));
}
