import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRevisionById } from "@/server/db/queries/pipeline";
import { claimJobTurn } from "@/server/leases/job-lease";
import { claimRevisionLease, releaseRevisionLease, renewRevisionLease } from "@/server/leases/revision-lease";
import { announceServer, isServerAlive } from "@/server/leases/server-presence";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { createProjectFixture, credentialContext, type ProjectFixture } from "./events-fixtures";

// Several app servers share one control-plane database: a revision is carried on by the one holding its lease, a
// periodic job runs on one of them per period, and a server that stops saying it is alive is known to be gone.

describe.each(testDatabases)("leases on $name", (factory) => {
  let t: TestDatabase;
  let fixture: ProjectFixture;

  beforeAll(async () => {
    t = await factory.open();
    fixture = await createProjectFixture(t.db, credentialContext());
  });

  afterAll(async () => {
    await t?.drop();
  });

  it("gives a revision to one server at a time, and to another once its holder's lease ran out", async () => {
    const id = fixture.revisionId;
    const now = 1_000_000;
    expect(await claimRevisionLease(t.db, id, "server-a", 10_000, now)).toBe(true);
    expect(await claimRevisionLease(t.db, id, "server-b", 10_000, now + 1_000)).toBe(false);
    // The holder renews while it works; the other still cannot take it.
    expect(await renewRevisionLease(t.db, id, "server-a", 10_000, now + 8_000)).toBe(true);
    expect(await claimRevisionLease(t.db, id, "server-b", 10_000, now + 12_000)).toBe(false);
    // The holder died: no renewal, the lease runs out, the other server takes it; the dead one cannot renew.
    expect(await claimRevisionLease(t.db, id, "server-b", 10_000, now + 18_001)).toBe(true);
    expect(await renewRevisionLease(t.db, id, "server-a", 10_000, now + 18_002)).toBe(false);
    expect((await getRevisionById(t.db, id)).lease_owner).toBe("server-b");
    // Letting go frees it at once, and only its holder can.
    await releaseRevisionLease(t.db, id, "server-a");
    expect((await getRevisionById(t.db, id)).lease_owner).toBe("server-b");
    await releaseRevisionLease(t.db, id, "server-b");
    expect(await claimRevisionLease(t.db, id, "server-a", 10_000, now + 18_003)).toBe(true);
    await releaseRevisionLease(t.db, id, "server-a");
  });

  it("lets exactly one of several servers run a periodic job per period", async () => {
    const now = 2_000_000;
    const turns = await Promise.all(
      ["a", "b", "c"].map((server) => claimJobTurn(t.db, "recover-test", server, 2_000, now)),
    );
    expect(turns.filter(Boolean)).toHaveLength(1);
    // Within the period nobody else gets it; the next period one server does.
    expect(await claimJobTurn(t.db, "recover-test", "b", 2_000, now + 1_000)).toBe(false);
    const next = await Promise.all(
      ["a", "b", "c"].map((server) => claimJobTurn(t.db, "recover-test", server, 2_000, now + 2_000)),
    );
    expect(next.filter(Boolean)).toHaveLength(1);
  });

  it("knows a server is gone once it stopped saying it is alive", async () => {
    const now = 3_000_000;
    await announceServer(t.db, "server-x", 10_000, now);
    expect(await isServerAlive(t.db, "server-x", now + 9_000)).toBe(true);
    await announceServer(t.db, "server-x", 10_000, now + 9_000);
    expect(await isServerAlive(t.db, "server-x", now + 18_000)).toBe(true);
    expect(await isServerAlive(t.db, "server-x", now + 19_001)).toBe(false);
    expect(await isServerAlive(t.db, "never-seen", now)).toBe(false);
  });
});
