import type { PublicEvent } from "@/server/events/public-event";

// Client-safe: what a share link's replay page receives.

export type SharedCheckpoint = {
  ordinal: number;
  /** "prompt" (a prompt to the agent) or "restore" (an earlier checkpoint brought back). */
  kind: string;
  prompt: string;
  status: string;
  /** The step it is at, or failed at. */
  step: string | null;
  /** Why it failed, in the pipeline's words. */
  reason: string | null;
  createdAt: number;
  finishedAt: number | null;
  commitShort: string | null;
  /** Null while there is none, or when the preview was put to sleep (a viewer cannot wake it). */
  previewUrl: string | null;
  deployUrl: string | null;
  hasScreenshot: boolean;
};

export type SharedSession = {
  slug: string;
  title: string;
  /** A checkpoint is still running: new events will follow. */
  live: boolean;
  checkpoints: SharedCheckpoint[];
  events: PublicEvent[];
  /** The stream resumes after this cursor (`?after=`). */
  lastCursor: number;
  /** False when the backlog was cut at the limit: the rest comes over the stream. */
  complete: boolean;
  /**
   * The newest public event's cursor when the page was read (at or past the backlog's): a finished session's
   * stream is needed only until it is reached.
   */
  endCursor: number;
};
