import { afterEach, describe, expect, it } from "vitest";
import { createEventPoster, type PosterOptions, retryAfterMs } from "../../src/sandboxes/runner/poster";
import type { EventBody } from "../../src/server/events/schema";
import { manualClock } from "../helpers/manual-clock";
import { waitUntil } from "../helpers/wait-until";
import { type ReceiverOptions, startWebhookReceiver, type WebhookReceiver } from "./runner-receiver";

const secret = "whsec_runner-poster-test-0123456789";
const runId = "run_poster_test";
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(options: Partial<ReceiverOptions> = {}): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver({ secret, ...options });
  receivers.push(started);
  return started;
}

function poster(webhookUrl: string, options: Partial<PosterOptions> = {}) {
  const warnings: string[] = [];
  const created = createEventPoster({
    runId,
    webhookUrl,
    secret,
    baseBackoffMs: 20,
    maxBackoffMs: 200,
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  return { poster: created, warnings };
}

const progress = (n: number): EventBody => ({
  type: "runner.output",
  payload: { step: "verify", stream: "stdout", text: `line ${n}\n` },
});

describe("event poster", () => {
  it("sends numbered events in signed batches of at most 500, in order, with ids <runId>-<seq>", async () => {
    const hook = await receiver();
    const { poster: events } = poster(hook.url);
    for (let n = 0; n < 1_200; n++) expect(events.post(progress(n))).toBe(n);
    await events.flush();
    expect(hook.requests.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(hook.requests.map((request) => request.batch?.events.length)).toEqual([500, 500, 200]);
    const received = hook.events();
    expect(received.map((event) => event.seq)).toEqual([...Array(1_200).keys()]);
    expect(received.every((event) => event.id === `${runId}-${event.seq}`)).toBe(true);
    expect(received[7]).toMatchObject({ type: "runner.output", payload: { text: "line 7\n" } });
    expect(hook.requests.every((request) => request.batch?.runId === runId)).toBe(true);
    expect(events.stats).toMatchObject({ queued: 1_200, sent: 1_200, dropped: 0, retries: 0 });
  });

  it("numbers from the run spec's seqBase, so runner events sort after the platform's", async () => {
    const hook = await receiver();
    const { poster: events } = poster(hook.url, { firstSeq: 42 });
    expect(events.post(progress(0))).toBe(42);
    expect(events.post(progress(1))).toBe(43);
    await events.flush();
    expect(hook.events().map((event) => event.id)).toEqual([`${runId}-42`, `${runId}-43`]);
  });

  it("sends what accumulated after the flush interval without being asked", async () => {
    const hook = await receiver();
    const clock = manualClock();
    const { poster: events } = poster(hook.url, { flushIntervalMs: 100, clock });
    events.post(progress(1));
    events.post(progress(2));
    clock.advance(99);
    // A request starts synchronously when the poster sends, so `requests` shows one the webhook has yet to see.
    expect(events.stats.requests).toBe(0);
    clock.advance(1);
    expect(events.stats.requests).toBe(1);
    await waitUntil(() => events.stats.sent + events.stats.dropped > 0, "the webhook to answer the batch");
    expect(hook.requests.map((request) => request.batch?.events.length)).toEqual([2]);
    expect(events.stats).toMatchObject({ sent: 2, dropped: 0, requests: 1 });
  });

  it("sends a report the platform acts on (the preview is up) at once, with what was queued before it", async () => {
    const hook = await receiver();
    const clock = manualClock();
    const { poster: events } = poster(hook.url, { flushIntervalMs: 250, clock });
    events.post(progress(1));
    expect(events.stats.requests).toBe(0);
    events.post({ type: "runner.preview", payload: { port: 3000 } });
    // No time has passed on this clock: the batch left without waiting for the flush interval.
    expect(events.stats.requests).toBe(1);
    await waitUntil(() => events.stats.sent + events.stats.dropped > 0, "the webhook to answer the batch");
    expect(hook.events().map((event) => event.type)).toEqual(["runner.output", "runner.preview"]);
    expect(clock.pending()).toEqual([]);
  });

  it("keeps order while events arrive during a slow request", async () => {
    const hook = await receiver({ delayMs: 150 });
    const clock = manualClock();
    const { poster: events } = poster(hook.url, { flushIntervalMs: 10, clock });
    for (let n = 0; n < 5; n++) events.post(progress(n));
    clock.advance(10);
    expect(events.stats.requests).toBe(1);
    // The webhook holds that request for 150 ms: these arrive while it is in flight.
    for (let n = 5; n < 12; n++) events.post(progress(n));
    await events.flush();
    expect(hook.requests.map((request) => request.batch?.events.length)).toEqual([5, 7]);
    const seqs = hook.requests.flatMap((request) => request.batch?.events.map((event) => event.seq) ?? []);
    expect(seqs).toEqual([...Array(12).keys()]);
  });

  it("retries a 500 (twice) with backoff, re-signing each attempt, and delivers once", async () => {
    const hook = await receiver({ respond: (index) => (index < 2 ? { status: 500 } : undefined) });
    const { poster: events, warnings } = poster(hook.url);
    events.post(progress(1));
    await events.flush();
    expect(hook.requests.map((request) => request.status)).toEqual([500, 500, 200]);
    expect(hook.events()).toHaveLength(1);
    expect(events.stats).toMatchObject({ sent: 1, dropped: 0, retries: 2, requests: 3 });
    expect(warnings).toEqual([]);
  });

  it("waits as long as a 429's Retry-After says", async () => {
    const hook = await receiver({
      respond: (index) => (index === 0 ? { status: 429, headers: { "retry-after": "1" } } : undefined),
    });
    // Waits pass at once on this clock, which counts exactly how long the poster waited.
    const clock = manualClock({ autoAdvance: true });
    const { poster: events } = poster(hook.url, { clock });
    const started = clock.now();
    events.post(progress(1));
    await events.flush();
    expect(clock.now() - started).toBe(1_000);
    expect(hook.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(retryAfterMs("2", 0)).toBe(2_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs("soon", 0)).toBeUndefined();
  });

  it("gives up on a batch after the retry bound, says so, and carries on with the next", async () => {
    let failing = true;
    const hook = await receiver({ respond: () => (failing ? { status: 503 } : undefined) });
    // Waits pass at once on this clock; without jitter they are 20, 40, 80, 160, 200 (the cap) ms: 500 ms in all,
    // and one more 200 would overrun the 600 ms budget. Slow requests on a loaded machine change none of that.
    const clock = manualClock({ autoAdvance: true });
    const { poster: events, warnings } = poster(hook.url, { retryBudgetMs: 600, clock, random: () => 1 });
    const started = clock.now();
    events.post(progress(1));
    events.post(progress(2));
    await events.flush();
    expect(clock.now() - started).toBe(500);
    expect(hook.requests).toHaveLength(6);
    expect(events.stats).toMatchObject({ sent: 0, dropped: 2 });
    expect(warnings).toEqual([expect.stringMatching(/unreachable .*HTTP 503.*dropped a batch of 2 events/)]);

    failing = false;
    events.post(progress(3));
    await events.flush();
    expect(hook.events().map((event) => event.seq)).toEqual([2]);
  });

  it("drops a batch the webhook refuses with a 4xx, without retrying", async () => {
    const hook = await receiver({ respond: (index) => (index === 0 ? { status: 400 } : undefined) });
    const { poster: events, warnings } = poster(hook.url);
    events.post(progress(1));
    await events.flush();
    events.post(progress(2));
    await events.flush();
    expect(hook.requests.map((request) => request.status)).toEqual([400, 200]);
    expect(events.stats).toMatchObject({ sent: 1, dropped: 1, retries: 0, warnings: 1 });
    expect(warnings).toEqual(["webhook refused a batch of 1 events (HTTP 400); dropped"]);
  });

  it("retries network failures (a dropped connection, a closed port) within the bound", async () => {
    const hook = await receiver({ respond: (index) => (index === 0 ? { drop: true } : undefined) });
    const { poster: events } = poster(hook.url);
    events.post(progress(1));
    await events.flush();
    expect(hook.events()).toHaveLength(1);
    expect(events.stats.retries).toBe(1);

    const closed = await receiver();
    await closed.close();
    const { poster: nowhere, warnings } = poster(closed.url, { retryBudgetMs: 300 });
    nowhere.post(progress(1));
    await nowhere.flush();
    expect(nowhere.stats).toMatchObject({ sent: 0, dropped: 1 });
    expect(warnings[0]).toMatch(/unreachable/);
  });

  it("refuses an invalid event locally instead of losing its whole batch", async () => {
    const hook = await receiver();
    const { poster: events, warnings } = poster(hook.url);
    events.post(progress(1));
    const bad = {
      type: "runner.committed",
      payload: { bundleFile: "x", message: "m", treeSha: "nope" },
    } as const;
    expect(events.post(bad)).toBeUndefined();
    events.post(progress(2));
    await events.flush();
    expect(hook.events().map((event) => event.seq)).toEqual([0, 1]);
    expect(events.stats.invalid).toBe(1);
    expect(warnings[0]).toMatch(/invalid runner.committed event not sent: payload.treeSha/);
  });

  it("keeps every request under the webhook's 1 MB limit, shrinking an event too big on its own", async () => {
    const hook = await receiver();
    const { poster: events } = poster(hook.url);
    for (let n = 0; n < 30; n++) {
      events.post({ type: "agent.message", payload: { itemId: `m${n}`, text: "é".repeat(100_000) } });
    }
    // Control characters are escaped as \u00XX in JSON: 100,000 of them are 600 KB on the wire.
    const control = "\u0001".repeat(100_000);
    events.post({
      type: "agent.command",
      payload: { itemId: "c", command: control, output: control, exitCode: 1, status: "failed" },
    });
    await events.flush();
    expect(hook.requests.every((request) => request.status === 200)).toBe(true);
    expect(Math.max(...hook.requests.map((request) => request.bytes))).toBeLessThanOrEqual(1_000_000);
    expect(hook.events()).toHaveLength(31);
    const command = hook.events().at(-1);
    expect(command?.type === "agent.command" && command.payload.output).toMatch(/…\[truncated\]$/);
  });

  it("sends heartbeats while running; close stops them, waits for what is in flight, refuses later events", async () => {
    const hook = await receiver({ delayMs: 100 });
    const clock = manualClock();
    const { poster: events, warnings } = poster(hook.url, {
      heartbeatIntervalMs: 40,
      flushIntervalMs: 10,
      clock,
    });
    events.startHeartbeat();
    clock.advance(39);
    expect(events.stats.queued).toBe(0);
    // Beats at 40, 80 and 120 ms; the first is sent at 50 and the webhook holds that request for 100 ms.
    clock.advance(81);
    expect(events.stats).toMatchObject({ queued: 3, requests: 1 });
    events.post({ type: "runner.finished", payload: {} });
    await events.close();
    const types = hook.events().map((event) => event.type);
    expect(types).toEqual(["runner.heartbeat", "runner.heartbeat", "runner.heartbeat", "runner.finished"]);
    const requests = events.stats.requests;
    expect(events.post(progress(9))).toBeUndefined();
    clock.advance(1_000);
    expect(events.stats.requests).toBe(requests);
    expect(clock.pending()).toEqual([]);
    expect(warnings).toEqual(["event runner.output posted after close; not sent"]);
  });
});
