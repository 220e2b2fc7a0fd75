import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { listEventsOfRevision } from "@/server/db/queries/events";
import { appendPlatformEvent } from "@/server/events/append";
import type { EventBatch, WireEvent } from "@/server/events/schema";
import { signWebhookBody } from "@/server/events/sign";
import {
  handleSandboxWebhook,
  MAX_WEBHOOK_BODY_BYTES,
  readBodyWithLimit,
  type SandboxWebhookDeps,
} from "@/server/events/webhook";
import type { RunnerEventDeps } from "@/server/pipeline/advance-from-runner";
import { carryOn } from "@/server/pipeline/carry-on";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProvidersAt } from "../helpers/local-providers";
import {
  createProjectFixture,
  createSandboxFixture,
  credentialContext,
  type ProjectFixture,
  planted,
  platformSecrets,
  progressEvents,
  type SandboxFixture,
} from "./events-fixtures";

const NOW = 1_750_000_000_000;
const FIVE_MINUTES = 5 * 60_000;
const RUN = "run_webhook_test";

describe.each(testDatabases)("sandbox webhook on $name", (factory) => {
  let t: TestDatabase;
  let ctx: CredentialContext;
  let project: ProjectFixture;
  let sandbox: SandboxFixture;
  let deps: SandboxWebhookDeps;

  beforeAll(async () => {
    t = await factory.open();
    ctx = credentialContext();
    deps = { db: t.db, credentials: ctx, platformSecrets, now: () => NOW };
  });
  afterAll(async () => {
    await t.drop();
  });
  // A fresh project and sandbox per test: every assertion about stored rows sees only its own.
  beforeEach(async () => {
    project = await createProjectFixture(t.db, ctx);
    sandbox = await createSandboxFixture(t.db, ctx.key, project);
  });

  function signed(body: string, options: { secret?: string; timestamp?: number; sandboxId?: string } = {}) {
    const timestamp = options.timestamp ?? NOW;
    const headers = new Headers(signWebhookBody(options.secret ?? sandbox.secret, timestamp, body));
    return { sandboxId: options.sandboxId ?? sandbox.id, headers, rawBody: body };
  }

  function post(batch: EventBatch | string, options: Parameters<typeof signed>[1] = {}) {
    const body = typeof batch === "string" ? batch : JSON.stringify(batch);
    return handleSandboxWebhook(signed(body, options), deps);
  }

  async function storedRows() {
    return t.db
      .selectFrom("event")
      .selectAll()
      .where("revision_id", "=", project.revisionId)
      .orderBy("id", "asc")
      .execute();
  }

  it("stores a signed batch, bumps the heartbeats and answers how many were accepted", async () => {
    const result = await post({ runId: RUN, events: progressEvents(RUN, 0, 3) });
    expect(result).toEqual({ accepted: 3, duplicates: 0 });
    const rows = await storedRows();
    expect(rows.map((r) => [r.event_id, Number(r.seq), r.type, r.sandbox_id, r.task_id])).toEqual([
      [`${RUN}-0`, 0, "agent.message", sandbox.id, project.taskId],
      [`${RUN}-1`, 1, "agent.message", sandbox.id, project.taskId],
      [`${RUN}-2`, 2, "agent.message", sandbox.id, project.taskId],
    ]);
    expect(JSON.parse(rows[0]?.payload ?? "")).toEqual({ itemId: "item_0", text: "working 0" });
    const revision = await t.db
      .selectFrom("revision")
      .select("heartbeat_at")
      .where("id", "=", project.revisionId)
      .executeTakeFirstOrThrow();
    expect(Number(revision.heartbeat_at)).toBe(NOW);
    const row = await t.db
      .selectFrom("sandbox")
      .select("last_event_at")
      .where("id", "=", sandbox.id)
      .executeTakeFirstOrThrow();
    expect(Number(row.last_event_at)).toBe(NOW);
  });

  it("refuses missing, wrong and tampered signatures with 401 and stores nothing", async () => {
    const body = JSON.stringify({ runId: RUN, events: progressEvents(RUN, 0, 2) });
    const unsigned = await appErrorOf(
      handleSandboxWebhook({ sandboxId: sandbox.id, headers: new Headers(), rawBody: body }, deps),
    );
    expect([unsigned.status, unsigned.code]).toEqual([401, "unauthorized:token"]);
    expect(unsigned.message).toMatch(/missing or malformed x-kiln-signature/i);

    const wrongSecret = await appErrorOf(post(body, { secret: "0".repeat(64) }));
    expect([wrongSecret.status, wrongSecret.message]).toEqual([401, "The webhook signature does not match."]);

    const request = signed(body);
    const tampered = await appErrorOf(
      handleSandboxWebhook({ ...request, rawBody: body.replace("working 0", "working 9") }, deps),
    );
    expect([tampered.status, tampered.message]).toEqual([401, "The webhook signature does not match."]);

    // Another sandbox's valid signature is not this sandbox's.
    const other = await createSandboxFixture(t.db, ctx.key, project);
    const crossed = await appErrorOf(post(body, { secret: other.secret }));
    expect(crossed.status).toBe(401);
    expect(await storedRows()).toEqual([]);
  });

  it("refuses a timestamp more than 5 minutes off in either direction, accepts one at the edge", async () => {
    const batch = { runId: RUN, events: progressEvents(RUN, 0, 1) };
    for (const timestamp of [NOW - FIVE_MINUTES - 1, NOW + FIVE_MINUTES + 1]) {
      const error = await appErrorOf(post(batch, { timestamp }));
      expect(error.status).toBe(401);
      expect(error.message).toMatch(/more than 5 minutes away/);
    }
    expect(await storedRows()).toEqual([]);
    expect(await post(batch, { timestamp: NOW - FIVE_MINUTES })).toEqual({ accepted: 1, duplicates: 0 });
  });

  it("answers a replayed request with all duplicates and stores its events once", async () => {
    const request = signed(JSON.stringify({ runId: RUN, events: progressEvents(RUN, 0, 4) }));
    expect(await handleSandboxWebhook(request, deps)).toEqual({ accepted: 4, duplicates: 0 });
    expect(await handleSandboxWebhook(request, deps)).toEqual({ accepted: 0, duplicates: 4 });
    // A retry that overlaps (the runner resends 2–5 after a timeout) stores only the new ones.
    expect(await post({ runId: RUN, events: progressEvents(RUN, 2, 6) })).toEqual({
      accepted: 2,
      duplicates: 2,
    });
    expect((await storedRows()).map((r) => r.event_id)).toEqual([0, 1, 2, 3, 4, 5].map((s) => `${RUN}-${s}`));
  });

  it("counts an event repeated within one batch as a duplicate", async () => {
    const [first, second] = progressEvents(RUN, 0, 2);
    if (!first || !second) throw new Error("fixture");
    const changed: WireEvent = {
      id: first.id,
      seq: 0,
      at: first.at,
      type: "agent.message",
      payload: { itemId: "item_0", text: "a second copy" },
    };
    expect(await post({ runId: RUN, events: [first, second, first, changed] })).toEqual({
      accepted: 2,
      duplicates: 2,
    });
    const rows = await storedRows();
    expect(rows.map((r) => r.event_id)).toEqual([`${RUN}-0`, `${RUN}-1`]);
    // The first copy wins.
    expect(JSON.parse(rows[0]?.payload ?? "").text).toBe("working 0");
  });

  it("reads out-of-order batches back in seq order", async () => {
    await post({ runId: RUN, events: progressEvents(RUN, 5, 10) });
    await post({ runId: RUN, events: progressEvents(RUN, 0, 5) });
    const replay = await listEventsOfRevision(t.db, project.revisionId);
    expect(replay.map((r) => Number(r.seq))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Arrival order is what the cursor follows.
    expect((await storedRows()).map((r) => Number(r.seq))).toEqual([5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
  });

  it("refuses a body over 1 MB with 413, whether declared or only sent", async () => {
    const big = "x".repeat(MAX_WEBHOOK_BODY_BYTES + 1);
    const declared = new Request("http://kiln.test/hooks", {
      method: "POST",
      body: big,
      headers: { "content-length": String(big.length) },
    });
    expect((await appErrorOf(readBodyWithLimit(declared))).status).toBe(413);
    // A chunked body declares no length: the cap applies to the bytes as they arrive.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 17; i++) controller.enqueue(new Uint8Array(64 * 1024));
        controller.close();
      },
    });
    // Node needs `duplex` for a stream body; the DOM typings do not know it yet.
    const init: RequestInit & { duplex: "half" } = { method: "POST", body: chunks, duplex: "half" };
    const streamed = new Request("http://kiln.test/hooks", init);
    expect((await appErrorOf(readBodyWithLimit(streamed))).status).toBe(413);
    const fits = new Request("http://kiln.test/hooks", { method: "POST", body: '{"ok":true}' });
    expect(await readBodyWithLimit(fits)).toBe('{"ok":true}');

    const error = await appErrorOf(post(big));
    expect([error.status, error.code]).toEqual([413, "payload_too_large:body"]);
  });

  it("refuses malformed JSON and schema violations with 400 naming the first issue", async () => {
    const malformed = await appErrorOf(post('{"runId": "run_webhook_test", "events": ['));
    expect([malformed.status, malformed.code]).toEqual([400, "bad_request:json"]);

    const wrongType = await appErrorOf(
      post(
        JSON.stringify({
          runId: RUN,
          events: [{ id: `${RUN}-0`, seq: 0, at: 1, type: "agent.nope", payload: {} }],
        }),
      ),
    );
    expect([wrongType.status, wrongType.code]).toEqual([400, "bad_request:input"]);
    expect(wrongType.message).toMatch(/^events\.0/);

    const empty = await appErrorOf(post(JSON.stringify({ runId: RUN, events: [] })));
    expect(empty.message).toMatch(/^events/);
    const tooMany = await appErrorOf(post({ runId: RUN, events: progressEvents(RUN, 0, 501) }));
    expect(tooMany.status).toBe(400);
    expect(await storedRows()).toEqual([]);
  });

  it("answers 404 for an unknown sandbox and for one stopped longer than the grace period", async () => {
    const batch = { runId: RUN, events: progressEvents(RUN, 0, 1) };
    const unknown = await appErrorOf(post(batch, { sandboxId: "sbx_doesnotexist0" }));
    expect([unknown.status, unknown.code, unknown.message]).toEqual([404, "not_found:route", "Not found."]);

    const recent = await createSandboxFixture(t.db, ctx.key, project, { stoppedAt: NOW - 9 * 60_000 });
    expect(await post(batch, { sandboxId: recent.id, secret: recent.secret })).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    const old = await createSandboxFixture(t.db, ctx.key, project, { stoppedAt: NOW - 11 * 60_000 });
    const gone = await appErrorOf(post(batch, { sandboxId: old.id, secret: old.secret }));
    expect([gone.status, gone.message]).toEqual([404, "Not found."]);
  });

  it("redacts operator credentials, platform secrets and token shapes before storing", async () => {
    const secrets = [
      planted.operatorVercel,
      planted.operatorTidbPrivate,
      planted.operatorTidbPublic,
      planted.operatorOpenai,
      planted.platformAnthropic,
      planted.platformAdminPassword,
      planted.platformBlobToken,
      sandbox.secret,
      ctx.key.toString("base64"),
      "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
      "AKIAIOSFODNN7EXAMPLE",
    ];
    const leaky: WireEvent[] = [
      {
        id: `${RUN}-0`,
        seq: 0,
        at: NOW,
        type: "agent.command",
        payload: {
          itemId: "cmd_1",
          command: "env | sort",
          output: secrets.map((s, i) => `VAR_${i}=${s}`).join("\n"),
          exitCode: 0,
          status: "completed",
        },
      },
      {
        id: `${RUN}-1`,
        seq: 1,
        at: NOW,
        type: "runner.output",
        payload: {
          step: "migrate",
          stream: "stderr",
          text: `connect mysql://app:${planted.operatorTidbPrivate}@db:3306/x failed; token=${encodeURIComponent(planted.operatorVercel)}`,
        },
      },
      {
        id: `${RUN}-2`,
        seq: 2,
        at: NOW,
        type: "agent.todo",
        payload: { itemId: "todo_1", items: [{ text: `rotate ${planted.operatorOpenai}`, done: false }] },
      },
    ];
    expect(await post({ runId: RUN, events: leaky })).toEqual({ accepted: 3, duplicates: 0 });
    const raw = (await storedRows()).map((r) => r.payload).join("\n");
    for (const secret of secrets) expect(raw).not.toContain(secret);
    expect(raw).not.toContain(encodeURIComponent(planted.operatorVercel));
    expect(raw.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(secrets.length + 3);
    // What was not secret survives.
    expect(raw).toContain("VAR_0=[redacted]");
    expect(raw).toContain("connect mysql://app:[redacted]@db:3306/x failed");
    expect(raw).toContain("rotate [redacted]");
  });

  it("hands the stored batch to onIngested", async () => {
    const seen: string[] = [];
    const withHook: SandboxWebhookDeps = {
      ...deps,
      onIngested: async (result) => {
        seen.push(`${result.revisionId}:${result.accepted}:${result.events.map((e) => e.seq).join(",")}`);
      },
    };
    await handleSandboxWebhook(
      signed(JSON.stringify({ runId: RUN, events: progressEvents(RUN, 0, 2) })),
      withHook,
    );
    expect(seen).toEqual([`${project.revisionId}:2:0,1`]);
  });

  describe("after the run's end", () => {
    let dataDir: string;
    let runnerDeps: RunnerEventDeps;
    /** The webhook as the app wires it: accepted batches drive the revision through the real pipeline code. */
    let live: SandboxWebhookDeps;

    beforeAll(async () => {
      dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-webhook-"));
      const providers = localProvidersAt(dataDir);
      runnerDeps = {
        db: t.db,
        key: ctx.key,
        providersFor: async () => providers,
        templateDir: path.join(dataDir, "no-template"),
        templateCacheRoot: path.join(dataDir, "templates"),
        finish: { autoDeploy: false, chromiumPath: null },
      };
      live = {
        ...deps,
        onIngested: async (result) => {
          await carryOn(
            {
              db: deps.db,
              serverId: "test-platform",
              runnerEventDeps: () => runnerDeps,
              pipelineDeps: () => Promise.reject(new Error("not resumed in this test")),
            },
            result.revisionId,
          );
        },
      };
    });
    afterAll(async () => {
      await fs.rm(dataDir, { recursive: true, force: true });
    });

    const postLive = (batch: EventBatch) => handleSandboxWebhook(signed(JSON.stringify(batch)), live);

    async function revisionState() {
      const row = await t.db
        .selectFrom("revision")
        .select(["status", "error_message", "heartbeat_at"])
        .where("id", "=", project.revisionId)
        .executeTakeFirstOrThrow();
      return { status: row.status, error: row.error_message, heartbeat: row.heartbeat_at };
    }

    async function sandboxState() {
      const row = await t.db
        .selectFrom("sandbox")
        .select(["status", "stopped_at", "last_event_at"])
        .where("id", "=", sandbox.id)
        .executeTakeFirstOrThrow();
      return { status: row.status, stoppedAt: row.stopped_at, lastEventAt: row.last_event_at };
    }

    const failed = (seq: number, reason = "forged"): WireEvent => ({
      id: `${RUN}-${seq}`,
      seq,
      at: NOW,
      type: "runner.failed",
      payload: { step: "generate", reason },
    });
    const finished = (seq: number): WireEvent => ({
      id: `${RUN}-${seq}`,
      seq,
      at: NOW,
      type: "runner.finished",
      payload: {},
    });

    it("refuses a forged runner.failed for a finished checkpoint and leaves its live preview running", async () => {
      const earlier = { runId: RUN, events: progressEvents(RUN, 0, 2) };
      expect(await post(earlier)).toEqual({ accepted: 2, duplicates: 0 });
      // The checkpoint finished; its sandbox now serves the preview (a sandbox the adapter would stop).
      await t.db
        .updateTable("revision")
        .set({ status: "finished", preview_url: "http://127.0.0.1:41234" })
        .where("id", "=", project.revisionId)
        .execute();
      await t.db
        .updateTable("sandbox")
        .set({ external_id: "lsb_livepreview0000", preview_url: "http://127.0.0.1:41234" })
        .where("id", "=", sandbox.id)
        .execute();
      const [rowsBefore, revisionBefore, sandboxBefore] = [
        await storedRows(),
        await revisionState(),
        await sandboxState(),
      ];

      const forged = await appErrorOf(postLive({ runId: RUN, events: [failed(2)] }));
      expect([forged.status, forged.code]).toEqual([409, "conflict:run_closed"]);
      expect(forged.message).toMatch(/the revision is finished/);
      const plan: WireEvent = {
        id: `${RUN}-3`,
        seq: 3,
        at: NOW,
        type: "agent.message",
        payload: { itemId: "x", text: "forged words in the replay" },
      };
      expect((await appErrorOf(postLive({ runId: RUN, events: [plan] }))).status).toBe(409);

      expect(await storedRows()).toEqual(rowsBefore);
      expect(await revisionState()).toEqual(revisionBefore);
      expect(await sandboxState()).toEqual(sandboxBefore);
      expect(sandboxBefore).toMatchObject({ status: "running", stoppedAt: null });

      // The runner's retry of a batch stored before the end still gets its normal answer, and changes nothing.
      expect(await postLive(earlier)).toEqual({ accepted: 0, duplicates: 2 });
      expect(await storedRows()).toEqual(rowsBefore);
      expect(await sandboxState()).toEqual(sandboxBefore);
    });

    it("closes when the runner reports its end: later events are refused, retries of stored batches are not", async () => {
      const progress = { runId: RUN, events: progressEvents(RUN, 0, 3) };
      const end = { runId: RUN, events: [finished(3)] };
      expect(await post(progress)).toEqual({ accepted: 3, duplicates: 0 });
      expect(await post(end)).toEqual({ accepted: 1, duplicates: 0 });
      // Still deploying (not terminal yet): a runner.failed now would fail a finishing revision.
      await t.db
        .updateTable("revision")
        .set({ status: "deploying" })
        .where("id", "=", project.revisionId)
        .execute();
      const before = { rows: await storedRows(), revision: await revisionState() };

      for (const batch of [
        { runId: RUN, events: [failed(4)] },
        { runId: RUN, events: progressEvents(RUN, 4, 6, "late") },
        // A known id alongside a new one: the new one makes it a different batch.
        { runId: RUN, events: [...progressEvents(RUN, 2, 3), failed(4)] },
      ]) {
        const refused = await appErrorOf(post(batch));
        expect([refused.status, refused.code, refused.message]).toEqual([
          409,
          "conflict:run_closed",
          "This run has ended (it reported its end).",
        ]);
      }
      expect(await storedRows()).toEqual(before.rows);
      expect(await revisionState()).toEqual(before.revision);

      expect(await post(progress)).toEqual({ accepted: 0, duplicates: 3 });
      expect(await post(end)).toEqual({ accepted: 0, duplicates: 1 });
      expect(await storedRows()).toEqual(before.rows);
    });

    it("refuses a batch that carries anything after its runner.finished or runner.failed, storing none of it", async () => {
      for (const events of [
        [...progressEvents(RUN, 0, 1), finished(1), failed(2)],
        [finished(0), ...progressEvents(RUN, 1, 2)],
        [failed(1), finished(0)],
      ]) {
        const error = await appErrorOf(post({ runId: RUN, events }));
        expect([error.status, error.code]).toEqual([409, "conflict:run_closed"]);
      }
      expect(await storedRows()).toEqual([]);
      // The closing event last, as a runner sends it, is fine.
      expect(
        await post({ runId: RUN, events: [...progressEvents(RUN, 0, 2), failed(2, "build failed")] }),
      ).toEqual({
        accepted: 3,
        duplicates: 0,
      });
    });

    it("refuses events for a cancelled or failed revision", async () => {
      for (const status of ["cancelled", "failed"]) {
        await t.db.updateTable("revision").set({ status }).where("id", "=", project.revisionId).execute();
        const error = await appErrorOf(post({ runId: RUN, events: [failed(0, "stopped")] }));
        expect([error.status, error.message]).toEqual([
          409,
          `This run has ended (the revision is ${status}).`,
        ]);
      }
      expect(await storedRows()).toEqual([]);
    });
  });

  it("gives platform events the revision's next seq, without collisions under concurrency", async () => {
    await post({ runId: RUN, events: progressEvents(RUN, 0, 3) });
    const appended = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        appendPlatformEvent(t.db, {
          projectId: project.projectId,
          taskId: project.taskId,
          revisionId: project.revisionId,
          body: { type: "progress", payload: { message: `step ${i}` } },
        }),
      ),
    );
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    for (const event of appended) expect(event.id).toMatch(/^plt_[0-9a-z]{24}$/);
    const rows = await storedRows();
    expect(rows.filter((r) => r.sandbox_id === null)).toHaveLength(8);
    // Cursor order and seq order agree for one writer at a time.
    const platform = rows.filter((r) => r.sandbox_id === null);
    expect(platform.map((r) => Number(r.seq))).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
