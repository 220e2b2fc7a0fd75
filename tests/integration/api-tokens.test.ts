import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import {
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "@/server/auth/api-tokens";
import { createOperator, setOperatorPassword } from "@/server/auth/operators";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";

describe.each(testDatabases)("API tokens on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string; email: string };
  let grace: { id: string; email: string };
  beforeEach(async () => {
    t = await factory.open();
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    grace = await createOperator(
      t.db,
      { email: "grace@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
  });
  afterEach(async () => {
    await t.drop();
  });

  it("creates a kiln_ token that authenticates its owner", async () => {
    const now = Date.now();
    const { token, apiToken } = await createApiToken(t.db, ada.id, "  CI deploys  ", now);
    expect(token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    expect(apiToken).toEqual({
      id: apiToken.id,
      name: "CI deploys",
      displayPrefix: `${token.slice(0, 11)}…`,
      createdAt: now,
      lastUsedAt: null,
    });
    expect((await authenticateApiToken(t.db, token))?.id).toBe(ada.id);
  });

  it("revokes the operator's tokens when their password changes, and nobody else's", async () => {
    const now = Date.now();
    const ci = await createApiToken(t.db, ada.id, "CI", now);
    const laptop = await createApiToken(t.db, ada.id, "laptop", now);
    const other = await createApiToken(t.db, grace.id, "CI", now);

    await setOperatorPassword(t.db, "ada@example.com", "a brand new passphrase", now + 1_000);

    expect(await authenticateApiToken(t.db, ci.token)).toBeUndefined();
    expect(await authenticateApiToken(t.db, laptop.token)).toBeUndefined();
    expect(await listApiTokens(t.db, ada.id)).toEqual([]);
    expect((await authenticateApiToken(t.db, other.token))?.id).toBe(grace.id);
    // A token made after the change works.
    const fresh = await createApiToken(t.db, ada.id, "new CI", now + 2_000);
    expect((await authenticateApiToken(t.db, fresh.token))?.id).toBe(ada.id);
  });

  it("keeps only a hash of the token in the database", async () => {
    const { token } = await createApiToken(t.db, ada.id, "CI");
    const rows = await t.db.selectFrom("api_token").selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice("kiln_".length));
    // The random part beyond the displayed prefix appears nowhere.
    expect(stored).not.toContain(token.slice(11, 31));
  });

  it("lists an operator's tokens newest first, without the token or its hash", async () => {
    const now = Date.now();
    const older = await createApiToken(t.db, ada.id, "laptop", now);
    const newer = await createApiToken(t.db, ada.id, "CI", now + 1000);
    await createApiToken(t.db, grace.id, "grace's", now + 2000);

    const listed = await listApiTokens(t.db, ada.id);
    expect(listed.map((token) => token.name)).toEqual(["CI", "laptop"]);
    expect(listed).toEqual([newer.apiToken, older.apiToken]);
    const json = JSON.stringify(listed);
    for (const { token } of [older, newer]) {
      expect(json).not.toContain(token);
      expect(json).not.toContain(createHash("sha256").update(token).digest("hex"));
    }
    expect(await listApiTokens(t.db, "usr_nobody")).toEqual([]);
  });

  it("authenticates nobody with a guessed, truncated, unprefixed or oversized token", async () => {
    const { token } = await createApiToken(t.db, ada.id, "CI");
    for (const guess of [
      "",
      "kiln_",
      `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`,
      token.slice(0, -1),
      token.slice("kiln_".length),
      `${token}${"x".repeat(200)}`,
      token.toUpperCase(),
    ]) {
      expect(await authenticateApiToken(t.db, guess)).toBeUndefined();
    }
  });

  it("records when a token was last used, at most once a minute", async () => {
    const t0 = Date.now();
    const { token } = await createApiToken(t.db, ada.id, "CI", t0);
    const lastUsed = async () => (await listApiTokens(t.db, ada.id))[0]?.lastUsedAt;

    await authenticateApiToken(t.db, token, t0 + 1000);
    expect(await lastUsed()).toBe(t0 + 1000);
    await authenticateApiToken(t.db, token, t0 + 30_000);
    expect(await lastUsed()).toBe(t0 + 1000);
    await authenticateApiToken(t.db, token, t0 + 120_000);
    expect(await lastUsed()).toBe(t0 + 120_000);
  });

  it("revokes a token: it stops working and leaves the list, other tokens keep working", async () => {
    const ci = await createApiToken(t.db, ada.id, "CI");
    const laptop = await createApiToken(t.db, ada.id, "laptop");
    await revokeApiToken(t.db, ada.id, ci.apiToken.id);

    expect(await authenticateApiToken(t.db, ci.token)).toBeUndefined();
    expect((await authenticateApiToken(t.db, laptop.token))?.id).toBe(ada.id);
    expect((await listApiTokens(t.db, ada.id)).map((token) => token.name)).toEqual(["laptop"]);

    expect((await appErrorOf(revokeApiToken(t.db, ada.id, ci.apiToken.id))).code).toBe("not_found:api_token");
  });

  it("will not revoke another operator's token, and says only that it was not found", async () => {
    const { token, apiToken } = await createApiToken(t.db, ada.id, "CI");
    const error = await appErrorOf(revokeApiToken(t.db, grace.id, apiToken.id));
    expect(error.code).toBe("not_found:api_token");
    expect(error.status).toBe(404);

    expect(await listApiTokens(t.db, ada.id)).toEqual([apiToken]);
    expect((await authenticateApiToken(t.db, token))?.id).toBe(ada.id);
    expect((await appErrorOf(revokeApiToken(t.db, ada.id, "tok_doesnotexist"))).code).toBe(
      "not_found:api_token",
    );
  });

  it("gives every token a distinct value", async () => {
    const first = await createApiToken(t.db, ada.id, "one");
    const second = await createApiToken(t.db, ada.id, "one");
    expect(first.token).not.toBe(second.token);
    expect(first.apiToken.id).not.toBe(second.apiToken.id);
  });

  it.each(["", "   ", "x".repeat(101)])("refuses the name %j and stores nothing", async (name) => {
    expect(await rejectionOf(createApiToken(t.db, ada.id, name))).toBeInstanceOf(ZodError);
    expect(await t.db.selectFrom("api_token").select("id").execute()).toEqual([]);
  });
});
