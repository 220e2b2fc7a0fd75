import { maxShortChars } from "../../agents/event-text";
import { type EventBody, eventBodySchema, type WireEvent, wireEventSchema } from "../../server/events/schema";
import { signWebhookBody } from "../../server/events/sign";

/**
 * Sends the runner's events to the platform's webhook: numbered (`seq` from `firstSeq`, ids `<runId>-<seq>`), in signed
 * batches (at most 500 events and ~900 KB, or whatever accumulated in 250 ms; an event the platform acts on at once,
 * such as the preview being up, goes without waiting, with whatever is queued before it), one request at a time so
 * the platform sees them in order. Network errors, 5xx and 429 are retried with exponential backoff and jitter
 * (honouring Retry-After), each request signed afresh, up to a bounded time per batch; any other 4xx is final:
 * the batch is dropped with a warning, as is one that exhausts its retry time. Retries are safe because the
 * webhook stores each event id once.
 */

export type PosterOptions = {
  runId: string;
  webhookUrl: string;
  secret: string;
  /** The first event's seq (the run spec's seqBase). Default 0. */
  firstSeq?: number;
  fetch?: typeof fetch;
  /** Default 500 (the webhook's maximum). */
  maxBatchEvents?: number;
  /** Serialized body size a batch stays under (the webhook refuses bodies over 1 MB). Default 900,000. */
  maxBatchBytes?: number;
  /** How long the first event of a batch waits for company. Default 250 ms. */
  flushIntervalMs?: number;
  /** Total time one batch may spend on retries before it is dropped. Default 2 minutes. */
  retryBudgetMs?: number;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
  /** First backoff; doubles per attempt up to `maxBackoffMs`. Defaults 500 ms and 15 s. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatIntervalMs?: number;
  /** Time as the poster sees it. Default: the system clock (`Date.now`, `setTimeout`). */
  clock?: Clock;
  random?: () => number;
  /** Operator-facing problems (a dropped batch, an invalid event); never carries the secret. */
  onWarning?: (message: string) => void;
};

/**
 * Every reading of time and every wait (flush interval, heartbeat, backoff) goes through this, so a test can step
 * time itself instead of sleeping and hoping the timers fired.
 */
export type Clock = {
  now(): number;
  /** Runs `task` once after `ms`; the returned function cancels it. */
  setTimer(task: () => void, ms: number): () => void;
};

const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(task, ms) {
    const timer = setTimeout(task, ms);
    return () => clearTimeout(timer);
  },
};

export type PosterStats = {
  queued: number;
  sent: number;
  dropped: number;
  invalid: number;
  requests: number;
  retries: number;
  warnings: number;
};

const defaultHeartbeatMs = 20_000;

/**
 * The reports the platform acts on (health-checks the preview, makes the commit, finishes or fails the run): sent
 * at once, since the operator waits for what follows them; everything else waits for company.
 */
const sentAtOnce = new Set<EventBody["type"]>([
  "runner.preview",
  "runner.committed",
  "runner.finished",
  "runner.failed",
]);

/** Retry-After as milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.round(Number(header) * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

type Attempt =
  | { ok: true }
  | { ok: false; retry: boolean; waitMs?: number; why: string; detail?: string; timedOut?: boolean };

/** fetch's own message ("fetch failed") says nothing: the cause holds the socket's error (connect ECONNREFUSED …). */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return "network error";
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}

/** The first line of a plain-text answer (what the sandbox's door says when the platform is unreachable). */
function plainTextDetail(response: Response, text: string): string | undefined {
  if (!response.headers.get("content-type")?.startsWith("text/plain")) return undefined;
  const line = text.trim().split("\n")[0]?.trim();
  return line ? line.slice(0, 200) : undefined;
}

export class EventPoster {
  readonly stats: PosterStats = {
    queued: 0,
    sent: 0,
    dropped: 0,
    invalid: 0,
    requests: 0,
    retries: 0,
    warnings: 0,
  };
  /**
   * The latest failed delivery attempt, undefined while none has: why (with what the other end said where it is
   * short plain text), and whether it was a request accepted but not answered in time. With `stats.sent` still 0
   * it tells that the platform was never reached, and why.
   */
  lastFailure: { why: string; timedOut: boolean } | undefined;
  private seq: number;
  private readonly queue: WireEvent[] = [];
  private cancelFlushTimer: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly fetch: typeof fetch;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: PosterOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.seq = options.firstSeq ?? 0;
  }

  /** Queues one event; returns its seq, or undefined when it was refused (invalid, or the poster is closed). */
  post(body: EventBody): number | undefined {
    if (this.closed) {
      this.warn(`event ${body.type} posted after close; not sent`);
      return undefined;
    }
    // One invalid event would make the webhook refuse its whole batch: check each one here instead.
    const parsed = eventBodySchema.safeParse(body);
    if (!parsed.success) {
      this.stats.invalid += 1;
      const issue = parsed.error.issues[0];
      this.warn(
        `invalid ${body.type} event not sent: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`,
      );
      return undefined;
    }
    const seq = this.seq++;
    const event: WireEvent = {
      id: `${this.options.runId}-${seq}`,
      seq,
      at: this.clock.now(),
      ...parsed.data,
    };
    this.queue.push(event);
    this.stats.queued += 1;
    if (this.queue.length >= (this.options.maxBatchEvents ?? 500) || sentAtOnce.has(event.type)) {
      this.kick();
    } else {
      const flushIntervalMs = this.options.flushIntervalMs ?? 250;
      this.cancelFlushTimer ??= this.clock.setTimer(() => this.kick(), flushIntervalMs);
    }
    return seq;
  }

  /** Resolves once every event posted so far has been delivered or dropped. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining) {
      this.kick();
      await this.draining;
    }
  }

  startHeartbeat(): void {
    if (this.cancelHeartbeat) return;
    const intervalMs = this.options.heartbeatIntervalMs ?? defaultHeartbeatMs;
    const beat = () => {
      this.cancelHeartbeat = this.clock.setTimer(beat, intervalMs);
      this.post({ type: "runner.heartbeat", payload: {} });
    };
    this.cancelHeartbeat = this.clock.setTimer(beat, intervalMs);
  }

  stopHeartbeat(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = undefined;
  }

  /** Refuses further events, stops the heartbeat, and delivers what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopHeartbeat();
    await this.flush();
    this.cancelFlushTimer?.();
  }

  private kick(): void {
    this.cancelFlushTimer?.();
    this.cancelFlushTimer = undefined;
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const { body, count } = this.nextBatch();
      const events = this.queue.splice(0, count);
      if (await this.deliver(body, events.length)) this.stats.sent += events.length;
      else this.stats.dropped += events.length;
    }
  }

  /** The longest prefix of the queue that fits the limits (at least one event, shrunk if it alone is too big). */
  private nextBatch(): { body: string; count: number } {
    const maxEvents = this.options.maxBatchEvents ?? 500;
    const maxBytes = this.options.maxBatchBytes ?? 900_000;
    const envelope = Buffer.byteLength(JSON.stringify({ runId: this.options.runId, events: [] }));
    let bytes = envelope;
    let count = 0;
    for (const event of this.queue.slice(0, maxEvents)) {
      const size = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (count > 0 && bytes + size > maxBytes) break;
      if (count === 0 && bytes + size > maxBytes) {
        this.queue[0] = shrink(event, maxBytes - envelope - 1);
        return { body: this.batchBody([this.queue[0]]), count: 1 };
      }
      bytes += size;
      count += 1;
    }
    return { body: this.batchBody(this.queue.slice(0, count)), count };
  }

  private batchBody(events: WireEvent[]): string {
    return JSON.stringify({ runId: this.options.runId, events });
  }

  private async deliver(body: string, count: number): Promise<boolean> {
    const started = this.clock.now();
    const budget = this.options.retryBudgetMs ?? 120_000;
    for (let attempt = 0; ; attempt++) {
      const result = await this.attempt(body);
      if (result.ok) return true;
      this.lastFailure = {
        why: result.detail ? `${result.why}: ${result.detail}` : result.why,
        timedOut: result.timedOut ?? false,
      };
      if (!result.retry) {
        this.warn(`webhook refused a batch of ${count} events (${result.why}); dropped`);
        return false;
      }
      const backoff = Math.min(
        (this.options.baseBackoffMs ?? 500) * 2 ** attempt,
        this.options.maxBackoffMs ?? 15_000,
      );
      // Full jitter, unless the server said how long to wait.
      const wait = result.waitMs ?? Math.round(backoff * (0.5 + this.random() / 2));
      if (this.clock.now() - started + wait > budget) {
        this.warn(
          `webhook unreachable for ${Math.round((this.clock.now() - started) / 1000)} s (${result.why}); ` +
            `dropped a batch of ${count} events`,
        );
        return false;
      }
      this.stats.retries += 1;
      await new Promise<void>((resolve) => this.clock.setTimer(resolve, wait));
    }
  }

  private async attempt(body: string): Promise<Attempt> {
    this.stats.requests += 1;
    // Signed per attempt: the webhook refuses timestamps more than 5 minutes old.
    const headers = {
      "content-type": "application/json",
      ...signWebhookBody(this.options.secret, this.clock.now(), body),
    };
    let response: Response;
    try {
      response = await this.fetch(this.options.webhookUrl, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      return { ok: false, retry: true, why: describeNetworkError(error), timedOut };
    }
    let text = "";
    try {
      // The answer is small; reading it frees the connection for reuse.
      text = await response.text();
    } catch (error) {
      // The status already says what happened; a body cut short changes nothing.
      if (!(error instanceof Error)) throw error;
    }
    if (response.ok) return { ok: true };
    const why = `HTTP ${response.status}`;
    const detail = plainTextDetail(response, text);
    if (response.status === 429 || response.status >= 500) {
      return {
        ok: false,
        retry: true,
        why,
        detail,
        waitMs: retryAfterMs(response.headers.get("retry-after"), this.clock.now()),
      };
    }
    return { ok: false, retry: false, why, detail };
  }

  private warn(message: string): void {
    this.stats.warnings += 1;
    this.options.onWarning?.(message);
  }
}

/** An event too big for any batch, with its long strings halved until it fits (still a valid event). */
function shrink(event: WireEvent, maxBytes: number): WireEvent {
  let current: WireEvent = event;
  for (let round = 0; round < 20 && Buffer.byteLength(JSON.stringify(current)) > maxBytes; round++) {
    current = wireEventSchema.parse(halveStrings(current));
  }
  return current;
}

function halveStrings(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > maxShortChars ? `${value.slice(0, value.length / 2)}…[truncated]` : value;
  }
  if (Array.isArray(value)) return value.map(halveStrings);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, halveStrings(inner)]));
  }
  return value;
}

export function createEventPoster(options: PosterOptions): EventPoster {
  return new EventPoster(options);
}
