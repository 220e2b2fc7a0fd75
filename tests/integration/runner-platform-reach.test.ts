import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { watchPlatformReach } from "../../src/sandboxes/runner/platform-reach";
import { createEventPoster, type EventPoster } from "../../src/sandboxes/runner/poster";
import { waitUntil } from "../helpers/wait-until";
import { startWebhookReceiver, type WebhookReceiver } from "./runner-receiver";

// When the runner gives up on reaching the platform (the whole run, with the status file the platform reads, is
// in unreachable-runner.test.ts): at once when every attempt is refused, but not while the platform accepted the
// request and is slow to answer, as `next dev` is while it compiles the webhook route on first use.

const secret = "whsec_runner-reach-test-0123456789";
const receivers: WebhookReceiver[] = [];
const stops: Array<() => void> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

function poster(webhookUrl: string, requestTimeoutMs = 30_000): EventPoster {
  const created = createEventPoster({
    runId: "run_reach_test",
    webhookUrl,
    secret,
    baseBackoffMs: 20,
    maxBackoffMs: 200,
    requestTimeoutMs,
  });
  created.post({ type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } });
  return created;
}

describe("the runner's watch on reaching the platform", () => {
  it("gives up when every attempt is refused, saying what the socket said", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const events = poster(`http://127.0.0.1:${port}/hooks/v1/sandboxes/sbx_1`);

    const why = await new Promise<string>((resolve) => stops.push(watchPlatformReach(events, 500, resolve)));

    expect(why).toBe(`TypeError: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(events.stats.sent).toBe(0);
  });

  it("waits for a platform that accepted the request but answers late, and stands down once it answers", async () => {
    // The first two requests are answered after the poster stopped waiting; the third at once.
    const hook = await startWebhookReceiver({
      secret,
      respond: (index) => (index < 2 ? { status: 200, delayMs: 1_000 } : undefined),
    });
    receivers.push(hook);
    const events = poster(hook.url, 300);
    const gaveUp: string[] = [];
    // Looked at while the first request has timed out and the second waits: a refusal would be given up on here.
    stops.push(watchPlatformReach(events, 700, (why) => gaveUp.push(why)));

    await waitUntil(() => events.stats.sent > 0, "the batch to be delivered");
    expect(events.lastFailure).toEqual({ why: expect.stringMatching(/^TimeoutError/), timedOut: true });
    // Past the first look (and the next), nothing was given up.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(gaveUp).toEqual([]);
  });
});
