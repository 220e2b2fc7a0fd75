import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { newId } from "@/server/ids";
import { reconcileSilentRevisions } from "@/server/maintenance/reconciler";
import { createProject } from "@/server/operations/create-project";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";

const local = localProviderChoices;

describe.each(testDatabases)("reconciler on $name", (factory) => {
  let t: TestDatabase;
  let userId: string;
  beforeEach(async () => {
    t = await factory.open();
    userId = (
      await createOperator(
        t.db,
        { email: "ops@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
  });
  afterEach(async () => {
    await t.drop();
  });

  async function revisionIn(status: string, heartbeatAt: number | null) {
    const { revision } = await createProject(
      t.db,
      userId,
      { prompt: `An app ${status} ${heartbeatAt}` },
      local,
    );
    await t.db
      .updateTable("revision")
      .set({ status, heartbeat_at: heartbeatAt })
      .where("id", "=", revision.id)
      .execute();
    return revision.id;
  }

  async function read(id: string) {
    return t.db.selectFrom("revision").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  }

  it("fails in-flight builds that went silent, with a reason, and leaves the rest alone", async () => {
    const now = Date.now();
    const silent = await revisionIn("generating", now - 11 * 60_000);
    const lively = await revisionIn("generating", now - 60_000);
    const queued = await revisionIn("queued", null);
    const finished = await revisionIn("finished", now - 60 * 60_000);

    expect(await reconcileSilentRevisions(t.db, { now })).toEqual([silent]);

    const failed = await read(silent);
    expect([failed.status, failed.error_code, failed.finished_at]).toEqual(["failed", "sandbox_silent", now]);
    expect(failed.error_message).toMatch(/No sign of life .* 10 minutes while generating/);
    expect((await read(lively)).status).toBe("generating");
    expect((await read(queued)).status).toBe("queued");
    expect((await read(finished)).status).toBe("finished");
    expect(await reconcileSilentRevisions(t.db, { now })).toEqual([]);
  });

  it("suggests sending the prompt again only when the sandbox was heard from; else points at KILN_PUBLIC_URL", async () => {
    const now = Date.now();
    const withSandbox = async (lastEventAt: number | null) => {
      const id = await revisionIn("generating", now - 11 * 60_000);
      const row = await t.db
        .selectFrom("revision")
        .select("project_id")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const sandboxId = newId("sandbox");
      await t.db
        .insertInto("sandbox")
        .values({
          id: sandboxId,
          project_id: row.project_id,
          provider: "local",
          external_id: null,
          status: "running",
          webhook_secret_ciphertext: "unused",
          preview_url: null,
          last_event_at: lastEventAt,
          created_at: now - 12 * 60_000,
          updated_at: now - 12 * 60_000,
          stopped_at: null,
        })
        .execute();
      await t.db.updateTable("revision").set({ sandbox_id: sandboxId }).where("id", "=", id).execute();
      return id;
    };
    const heard = await withSandbox(now - 11 * 60_000);
    const neverHeard = await withSandbox(null);

    expect((await reconcileSilentRevisions(t.db, { now })).sort()).toEqual([heard, neverHeard].sort());

    const stopped = (await read(heard)).error_message;
    expect(stopped).toMatch(
      /its sandbox stopped or the platform restarted\. Send the prompt again to retry\.$/,
    );
    const unreachable = (await read(neverHeard)).error_message;
    expect(unreachable).toMatch(/its sandbox never reported/);
    expect(unreachable).toContain("KILN_PUBLIC_URL");
    expect(unreachable).not.toMatch(/platform restarted|to retry|last checkpoint/);
  });
});
