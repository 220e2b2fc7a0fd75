import type { RevisionDto } from "@/server/revisions/revision-types";

// Pure: which checkpoint the preview pane shows. Never blank while a follow-up builds or after a failure: the last
// good version stays up, with a notice of what is going on. Unit-tested in tests/unit/preview-choice.test.ts.

type Checkpoint = Pick<
  RevisionDto,
  "id" | "ordinal" | "status" | "previewUrl" | "screenshotUrl" | "previewAsleep"
>;

export type PreviewNotice =
  /** A newer checkpoint is being built; the overlay says so over the last good version. */
  | { kind: "building"; ordinal: number; status: string }
  /** The newest checkpoint failed or was cancelled: this is the last good version. */
  | { kind: "ended"; ordinal: number; status: "failed" | "cancelled" };

export type PreviewChoice<T extends Checkpoint> = { revision: T | null; notice: PreviewNotice | null };

const ended = new Set(["failed", "cancelled"]);

function hasPreview(revision: Checkpoint): boolean {
  return revision.previewUrl !== null || revision.screenshotUrl !== null;
}

/**
 * `shown` is the checkpoint the operator looks at (shownCheckpoint); `newest` the task's newest. An earlier one the
 * operator picked is shown as it is. The newest is shown once it has a preview of its own and did not fail;
 * until then, the newest finished checkpoint with a preview stands in.
 */
export function previewChoice<T extends Checkpoint>(
  revisions: readonly T[],
  shown: T | null,
  newest: T | null,
): PreviewChoice<T> {
  if (!shown || !newest || shown.id !== newest.id) return { revision: shown, notice: null };
  const failed = ended.has(newest.status);
  if (!failed && hasPreview(newest)) return { revision: newest, notice: null };
  const lastGood = revisions
    .filter((revision) => revision.ordinal < newest.ordinal && revision.status === "finished")
    .filter(hasPreview)
    .reduce<T | null>((best, revision) => (!best || revision.ordinal > best.ordinal ? revision : best), null);
  if (!lastGood) return { revision: newest, notice: null };
  const notice: PreviewNotice = failed
    ? { kind: "ended", ordinal: newest.ordinal, status: newest.status === "failed" ? "failed" : "cancelled" }
    : { kind: "building", ordinal: newest.ordinal, status: newest.status };
  return { revision: lastGood, notice };
}
