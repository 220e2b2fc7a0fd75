import { keyedQueue } from "@/server/keyed-queue";

// Work for one revision runs one piece at a time, in arrival order, even when requests overlap: a later webhook batch
// (the runner's "finished") must not overtake an earlier one still committing or checking the preview. One queue per
// process, shared by every bundled copy of this module: the revision lease lets the same server in twice, so a queue
// per copy would let two copies carry the same revision on at once (seen: the commit step ran twice).
const inRevisionOrder = keyedQueue("revisions");

export function withRevisionLock(key: string, work: () => Promise<void>): Promise<void> {
  return inRevisionOrder(key, work);
}
