import { describe, expect, it } from "vitest";
import { initialStreamStatus, nextStreamStatus } from "@/components/conversation/stream-status";

// Issue 12: "(reconnecting…)" showed on every fresh load. A page that is connecting for the first time is not
// reconnecting; only a stream that was lost (or could not be reached) is.

describe("a live event stream's status", () => {
  it("is not reconnecting while a fresh page connects", () => {
    expect(initialStreamStatus).toEqual({ connected: false, reconnecting: false, closed: false });
    expect(nextStreamStatus("open")).toEqual({ connected: true, reconnecting: false, closed: false });
  });

  it("is reconnecting after a disconnect, until the stream is back", () => {
    expect(nextStreamStatus("error")).toEqual({ connected: false, reconnecting: true, closed: false });
    expect(nextStreamStatus("open").reconnecting).toBe(false);
  });

  it("is closed, not reconnecting, when the server refused it for good", () => {
    expect(nextStreamStatus("closed")).toEqual({ connected: false, reconnecting: false, closed: true });
  });
});
