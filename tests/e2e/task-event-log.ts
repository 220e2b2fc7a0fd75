import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

// An operator's live view of a task, as the workspace reads it: GET /api/v1/projects/:p/tasks/:t/events (SSE from a
// cursor), followed for as long as a test needs it. When the stream ends (the server died, or closed it at its
// lifetime) it reconnects with Last-Event-ID, as EventSource does, to whichever server `serverUrl()` names then.
// Every event is kept with when it arrived and through which server.

/**
 * A frame's data, read loosely on purpose: these tests check the order of steps, so a new event type or payload
 * field must not break them (the protocol's own schema is tested elsewhere).
 */
const frameSchema = z.object({
  cursor: z.number().int(),
  revisionId: z.string().nullable(),
  type: z.string(),
  seq: z.number(),
  at: z.number(),
  payload: z.record(z.string(), z.unknown()),
});
export type LoggedEvent = z.infer<typeof frameSchema> & { receivedAt: number; via: string };

export type TaskEventLogOptions = {
  projectId: string;
  taskId: string;
  token: string;
  /** The server to read from, asked again at each (re)connection; a name for `via`. */
  server: () => { url: string; name: string };
};

export class TaskEventLog {
  readonly events: LoggedEvent[] = [];
  private cursor = 0;
  private readonly stopped = new AbortController();
  private readonly done: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: TaskEventLogOptions) {
    this.done = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      const server = this.options.server();
      try {
        await this.readOnce(server);
      } catch (error) {
        // A dead or restarting server: connection refused, reset, or the body cut mid-stream. Try again.
        if (!(error instanceof Error)) throw error;
      }
      if (!this.stopped.signal.aborted) await sleep(250);
    }
  }

  private async readOnce(server: { url: string; name: string }): Promise<void> {
    const { projectId, taskId, token } = this.options;
    const response = await fetch(`${server.url}/api/v1/projects/${projectId}/tasks/${taskId}/events`, {
      headers: { authorization: `Bearer ${token}`, "last-event-id": String(this.cursor) },
      signal: this.stopped.signal,
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return;
    }
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        this.onFrame(buffer.slice(0, end), server.name);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
  }

  private onFrame(frame: string, via: string): void {
    let data: string | undefined;
    for (const line of frame.split("\n")) {
      // An id-only frame moves the cursor past rows the stream does not show.
      if (line.startsWith("id: ")) this.cursor = Math.max(this.cursor, Number(line.slice(4)));
      else if (line.startsWith("data: ")) data = line.slice(6);
    }
    if (data === undefined) return;
    const event = frameSchema.parse(JSON.parse(data));
    if (event.cursor <= (this.events.at(-1)?.cursor ?? 0)) return;
    this.events.push({ ...event, receivedAt: Date.now(), via });
    for (const wake of this.waiters) wake();
  }

  /** Resolves with the first logged event that matches (already logged or still to come). */
  async waitFor(
    what: string,
    match: (event: LoggedEvent) => boolean,
    timeoutMs: number,
  ): Promise<LoggedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 1_000));
        this.waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.done;
  }
}

/** The events as lines a person can read in a failure message. */
export function describeEvents(events: LoggedEvent[]): string {
  return events
    .map((event) => {
      const { step, status, attempt } = event.payload;
      const detail = [step, status, attempt === undefined ? undefined : `#${attempt}`]
        .filter((part) => part !== undefined)
        .join(" ");
      return `${event.cursor} ${new Date(event.at).toISOString().slice(11, 23)} ${event.type}${detail ? ` ${detail}` : ""}`;
    })
    .join("\n");
}
