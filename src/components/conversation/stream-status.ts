// Pure: what a live event stream's state is, from what its EventSource said last. Unit-tested in
// tests/unit/stream-status.test.ts.

export type StreamStatus = {
  /** The stream is open. */
  connected: boolean;
  /** It was lost (or never came up) and EventSource is trying again: only then does a page say so. */
  reconnecting: boolean;
  /** The server refused the stream (e.g. the share link was revoked): EventSource will not retry. */
  closed: boolean;
};

/** Before the first answer: connecting, which is not reconnecting (a fresh page load is not a disconnect). */
export const initialStreamStatus: StreamStatus = { connected: false, reconnecting: false, closed: false };

export type StreamSignal = "open" | "error" | "closed";

export function nextStreamStatus(signal: StreamSignal): StreamStatus {
  switch (signal) {
    case "open":
      return { connected: true, reconnecting: false, closed: false };
    case "error":
      return { connected: false, reconnecting: true, closed: false };
    case "closed":
      return { connected: false, reconnecting: false, closed: true };
  }
}
