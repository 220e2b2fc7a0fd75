import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { changeOperator } from "@/server/admin/change-operator";
import { OPERATOR_LINK_TTL_MS, redeemOperatorLink } from "@/server/admin/operator-links";
import { createApiTokenAudited } from "@/server/auth/api-token-changes";
import { authenticateApiToken } from "@/server/auth/api-tokens";
import { findUserBySessionToken, startAuthSession } from "@/server/auth/auth-sessions";
import { type LoginPolicy, login } from "@/server/auth/login";
import { setOperatorPassword } from "@/server/auth/operators";
import { deleteCredentialAudited, saveCredentialAudited } from "@/server/credentials/credential-changes";
import type { CredentialContext } from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { cancelRunningRevisionsOfOperator } from "@/server/operations/cancel-revision";
import { createProject } from "@/server/operations/create-project";
import { DISABLED_BY_ADMIN_REASON } from "@/server/operations/update-operator";
import { startFakeGitHub } from "../fakes/github";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// Administrators and the audit log (issue 11): the admin routes called as Next.js calls them, with real API tokens,
// on a real database. What a disabled operator's running work becomes is checked on the functions the PATCH route
// runs (its sandbox stop is scheduled after the response, which needs Next's request scope: see the e2e spec).

type Handler = RouteHandler;
type Routes = {
  users: { GET: Handler; POST: Handler };
  user: { PATCH: Handler };
  reset: { POST: Handler };
  audit: { GET: Handler };
  me: { GET: Handler };
};

const policy: LoginPolicy = {
  maxAttemptsPerAccount: 50,
  maxAttemptsPerIp: 50,
  maxAttemptsPerAccountTotal: 50,
  windowMs: 15 * 60_000,
  sessionTtlMs: 60 * 60_000,
};
const password = "correct horse battery";
const meta = { ip: "203.0.113.7", userAgent: "vitest" };

/** Freshly imported so their platform is built on this test's database (db/shared-database.ts). */
async function loadRoutes(db: Database): Promise<Routes> {
  vi.resetModules();
  (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb = Promise.resolve(db);
  return {
    users: await import("@/app/api/v1/admin/users/route"),
    user: await import("@/app/api/v1/admin/users/[userId]/route"),
    reset: await import("@/app/api/v1/admin/users/[userId]/password-reset/route"),
    audit: await import("@/app/api/v1/admin/audit/route"),
    me: await import("@/app/api/v1/me/route"),
  };
}

describe.each(testDatabases)("administrators on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string; role: string };
  let grace: { id: string; role: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "admin", { env: { KILN_PUBLIC_URL: "http://kiln.test" } });
    dataDir = world.dataDir;
    ada = world.ada;
    grace = world.grace;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
    routes = await loadRoutes(t.db);
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  function call(
    handler: Handler,
    method: string,
    url: string,
    options: { token?: string; body?: unknown; params?: Record<string, string> } = {},
  ) {
    const headers = new Headers({ "user-agent": "vitest-admin" });
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    if (options.body !== undefined) headers.set("content-type", "application/json");
    return handler(
      new Request(`http://kiln.test${url}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      }),
      { params: Promise.resolve(options.params ?? {}) },
    );
  }

  const listUsers = (token: string) => call(routes.users.GET, "GET", "/api/v1/admin/users", { token });
  const createUser = (token: string, body: unknown) =>
    call(routes.users.POST, "POST", "/api/v1/admin/users", { token, body });
  const patchUser = (token: string, userId: string, body: unknown) =>
    call(routes.user.PATCH, "PATCH", `/api/v1/admin/users/${userId}`, { token, body, params: { userId } });
  const resetPassword = (token: string, userId: string) =>
    call(routes.reset.POST, "POST", `/api/v1/admin/users/${userId}/password-reset`, {
      token,
      params: { userId },
    });
  const auditPage = (token: string, query = "") =>
    call(routes.audit.GET, "GET", `/api/v1/admin/audit${query}`, { token });

  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  type UserRow = { id: string; email: string; role: string; disabled: boolean; projectCount: number };
  async function usersOf(token: string): Promise<UserRow[]> {
    const response = await listUsers(token);
    expect(response.status).toBe(200);
    return ((await response.json()) as { users: UserRow[] }).users;
  }

  it("makes the first operator an admin and later ones operators", async () => {
    expect(ada.role).toBe("admin");
    expect(grace.role).toBe("operator");
    const me = await call(routes.me.GET, "GET", "/api/v1/me", { token: graceToken });
    expect(((await me.json()) as { user: { role: string } }).user.role).toBe("operator");
    const users = await usersOf(adaToken);
    expect(users.map((u) => [u.email, u.role, u.disabled, u.projectCount])).toEqual([
      ["ada@example.com", "admin", false, 0],
      ["grace@example.com", "operator", false, 0],
    ]);
  });

  it("answers 404 to a non-admin on every admin route, and changes nothing", async () => {
    const notFound = { status: 404, code: "not_found:route", message: "Not found." };
    expect(await errorOf(await listUsers(graceToken))).toEqual(notFound);
    expect(await errorOf(await createUser(graceToken, { email: "mallory@example.com", password }))).toEqual(
      notFound,
    );
    expect(await errorOf(await patchUser(graceToken, grace.id, { role: "admin" }))).toEqual(notFound);
    expect(await errorOf(await patchUser(graceToken, ada.id, { disabled: true }))).toEqual(notFound);
    expect(await errorOf(await resetPassword(graceToken, ada.id))).toEqual(notFound);
    expect(await errorOf(await auditPage(graceToken))).toEqual(notFound);
    // Even an invalid body gets the 404 first: nothing about the route's input is revealed.
    expect(await errorOf(await patchUser(graceToken, ada.id, { role: "root" }))).toEqual(notFound);

    const users = await usersOf(adaToken);
    expect(users.map((u) => [u.email, u.role, u.disabled])).toEqual([
      ["ada@example.com", "admin", false],
      ["grace@example.com", "operator", false],
    ]);
    expect(await t.db.selectFrom("audit_event").selectAll().execute()).toEqual([]);
    expect((await listUsers("kiln_not-a-token")).status).toBe(401);
  });

  it("creates an operator with a password who can sign in at once", async () => {
    const response = await createUser(adaToken, { email: "Linus@Example.com", name: "Linus", password });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { user: UserRow; invite: unknown };
    expect(body.user).toMatchObject({ email: "linus@example.com", role: "operator", disabled: false });
    expect(body.invite).toBeNull();
    const session = await login(t.db, { email: "linus@example.com", password, ...meta }, policy);
    expect(session.user.id).toBe(body.user.id);

    expect(await errorOf(await createUser(adaToken, { email: "linus@example.com", password }))).toMatchObject(
      {
        status: 409,
        code: "conflict:email",
      },
    );
  });

  it("invites by a one-time link that sets the password once, and refuses it used or expired", async () => {
    const response = await createUser(adaToken, { email: "barbara@example.com", role: "admin" });
    expect(response.status).toBe(201);
    const { user, invite } = (await response.json()) as {
      user: UserRow;
      invite: { path: string; url: string; expiresAt: number };
    };
    expect(user.role).toBe("admin");
    expect(invite.path).toMatch(/^\/invite\/[A-Za-z0-9_-]{43}$/);
    expect(invite.url).toBe(`http://kiln.test${invite.path}`);
    const token = invite.path.slice("/invite/".length);
    // Only the hash is at rest.
    const stored = await t.db.selectFrom("operator_invite").selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);

    // Until the link is used, no password signs in.
    const before = await appErrorOf(login(t.db, { email: "barbara@example.com", password, ...meta }, policy));
    expect(before.code).toBe("unauthorized:credentials");

    const redeemed = await redeemOperatorLink(t.db, { token, password, sessionTtlMs: 60_000, meta });
    expect(redeemed.email).toBe("barbara@example.com");
    expect((await findUserBySessionToken(t.db, redeemed.token))?.id).toBe(user.id);
    expect((await login(t.db, { email: "barbara@example.com", password, ...meta }, policy)).user.id).toBe(
      user.id,
    );

    const again = await appErrorOf(
      redeemOperatorLink(t.db, { token, password: "another horse battery", sessionTtlMs: 60_000, meta }),
    );
    expect(again.code).toBe("not_found:invite");
    expect((await login(t.db, { email: "barbara@example.com", password, ...meta }, policy)).user.id).toBe(
      user.id,
    );

    const late = (await (await createUser(adaToken, { email: "edsger@example.com" })).json()) as {
      invite: { path: string; expiresAt: number };
    };
    const lateToken = late.invite.path.slice("/invite/".length);
    const expired = await appErrorOf(
      redeemOperatorLink(
        t.db,
        { token: lateToken, password, sessionTtlMs: 60_000, meta },
        Date.now() + OPERATOR_LINK_TTL_MS + 1,
      ),
    );
    expect(expired.code).toBe("not_found:invite");
  });

  it("disables an operator: their token and session are refused at once, login too; re-enabling restores them", async () => {
    const session = await startAuthSession(t.db, grace.id, meta, 60 * 60_000);
    expect((await findUserBySessionToken(t.db, session.token))?.id).toBe(grace.id);
    const project = await createProject(t.db, grace.id, { prompt: "A guestbook" }, localProviderChoices);
    // Nothing running: stopping a sandbox is scheduled after the response, which needs Next's request scope.
    await t.db
      .updateTable("revision")
      .set({ status: "finished" })
      .where("id", "=", project.revision.id)
      .execute();

    const response = await patchUser(adaToken, grace.id, { disabled: true });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { user: UserRow }).user).toMatchObject({
      disabled: true,
      projectCount: 1,
    });

    expect(await findUserBySessionToken(t.db, session.token)).toBeUndefined();
    expect(await authenticateApiToken(t.db, graceToken)).toBeUndefined();
    expect((await call(routes.me.GET, "GET", "/api/v1/me", { token: graceToken })).status).toBe(401);
    const refused = await appErrorOf(login(t.db, { email: "grace@example.com", password, ...meta }, policy));
    // The same answer as a wrong password: nothing says the account exists or is disabled.
    expect(refused.code).toBe("unauthorized:credentials");
    expect(refused.message).toBe("Email or password is incorrect.");
    // Their projects stay.
    const kept = await t.db.selectFrom("project").select("id").where("user_id", "=", grace.id).execute();
    expect(kept).toEqual([{ id: project.project.id }]);

    const enabled = await patchUser(adaToken, grace.id, { disabled: false });
    expect(((await enabled.json()) as { user: UserRow }).user.disabled).toBe(false);
    // Tokens work again; the sessions that were open stay ended.
    expect((await authenticateApiToken(t.db, graceToken))?.id).toBe(grace.id);
    expect(await findUserBySessionToken(t.db, session.token)).toBeUndefined();
    expect((await login(t.db, { email: "grace@example.com", password, ...meta }, policy)).user.id).toBe(
      grace.id,
    );
  });

  it("cancels a disabled operator's running checkpoint with the reason, and records it in its events", async () => {
    const created = await createProject(t.db, grace.id, { prompt: "A guestbook" }, localProviderChoices);
    const finished = await createProject(t.db, grace.id, { prompt: "A wiki" }, localProviderChoices);
    await t.db
      .updateTable("revision")
      .set({ status: "generating" })
      .where("id", "=", created.revision.id)
      .execute();
    await t.db
      .updateTable("revision")
      .set({ status: "finished" })
      .where("id", "=", finished.revision.id)
      .execute();
    const adas = await createProject(t.db, ada.id, { prompt: "A blog" }, localProviderChoices);
    await t.db
      .updateTable("revision")
      .set({ status: "generating" })
      .where("id", "=", adas.revision.id)
      .execute();

    const request = { actorId: ada.id, ip: null, userAgent: null };
    expect(await changeOperator(t.db, request, grace.id, { disabled: true })).toEqual({ disabledNow: true });
    const cancelled = await cancelRunningRevisionsOfOperator(t.db, grace.id, DISABLED_BY_ADMIN_REASON);
    expect(cancelled).toEqual([created.revision.id]);

    const statuses = await t.db
      .selectFrom("revision")
      .select(["id", "status", "error_message"])
      .where("id", "in", [created.revision.id, finished.revision.id, adas.revision.id])
      .execute();
    expect(Object.fromEntries(statuses.map((r) => [r.id, [r.status, r.error_message]]))).toEqual({
      [created.revision.id]: ["cancelled", "Your account was disabled by an administrator."],
      [finished.revision.id]: ["finished", null],
      [adas.revision.id]: ["generating", null],
    });
    const events = await t.db
      .selectFrom("event")
      .select(["type", "payload"])
      .where("revision_id", "=", created.revision.id)
      .where("type", "=", "revision.status")
      .execute();
    expect(events.map((e) => JSON.parse(e.payload))).toContainEqual({
      status: "cancelled",
      reason: "Your account was disabled by an administrator.",
    });
    // Disabling again changes nothing more.
    expect(await changeOperator(t.db, request, grace.id, { disabled: true })).toEqual({ disabledNow: false });
  });

  it("refuses to disable or demote the last active admin, with a clear message", async () => {
    for (const change of [{ disabled: true }, { role: "operator" }]) {
      expect(await errorOf(await patchUser(adaToken, ada.id, change))).toEqual({
        status: 409,
        code: "conflict:last_admin",
        message:
          "You are the last active admin: make another operator an admin before you disable or demote yourself.",
      });
    }
    expect((await patchUser(adaToken, grace.id, { role: "admin" })).status).toBe(200);
    // A disabled admin does not count as one who can manage Kiln.
    expect((await patchUser(adaToken, grace.id, { disabled: true })).status).toBe(200);
    expect((await errorOf(await patchUser(adaToken, ada.id, { role: "operator" }))).code).toBe(
      "conflict:last_admin",
    );
    expect((await patchUser(adaToken, grace.id, { disabled: false })).status).toBe(200);

    const demoted = await patchUser(adaToken, ada.id, { role: "operator" });
    expect(((await demoted.json()) as { user: UserRow }).user.role).toBe("operator");
    // Ada is no admin any more: the admin routes are gone for her.
    expect((await listUsers(adaToken)).status).toBe(404);
    expect((await listUsers(graceToken)).status).toBe(200);
    expect(await errorOf(await patchUser(graceToken, "usr_nobody", { disabled: true }))).toMatchObject({
      status: 404,
      code: "not_found:operator",
    });
  });

  it("resets a password by a new one-time link: sessions end, the old link dies, the new one works once", async () => {
    const session = await startAuthSession(t.db, grace.id, meta, 60 * 60_000);
    const first = (await (await resetPassword(adaToken, grace.id)).json()) as { link: { path: string } };
    expect(await findUserBySessionToken(t.db, session.token)).toBeUndefined();
    const second = await resetPassword(adaToken, grace.id);
    expect(second.status).toBe(201);
    const { link } = (await second.json()) as { link: { path: string } };

    const newPassword = "a brand new battery";
    const stale = await appErrorOf(
      redeemOperatorLink(t.db, {
        token: first.link.path.slice("/invite/".length),
        password: newPassword,
        sessionTtlMs: 60_000,
        meta,
      }),
    );
    expect(stale.code).toBe("not_found:invite");
    await redeemOperatorLink(t.db, {
      token: link.path.slice("/invite/".length),
      password: newPassword,
      sessionTtlMs: 60_000,
      meta,
    });
    expect(
      (await login(t.db, { email: "grace@example.com", password: newPassword, ...meta }, policy)).user.id,
    ).toBe(grace.id);
    // A password set by the link ends every API token, as any password change does.
    expect(await authenticateApiToken(t.db, graceToken)).toBeUndefined();
  });

  it("records admin actions and credential changes, newest first, in pages, with no secrets", async () => {
    const secretPassword = "zebra-staple-password-9";
    await createUser(adaToken, { email: "linus@example.com", password: secretPassword });
    const invited = (await (await createUser(adaToken, { email: "edsger@example.com" })).json()) as {
      user: { id: string };
      invite: { path: string };
    };
    await patchUser(adaToken, grace.id, { role: "admin" });
    await patchUser(adaToken, grace.id, { disabled: true });
    await patchUser(adaToken, grace.id, { disabled: false });
    const reset = (await (await resetPassword(adaToken, invited.user.id)).json()) as {
      link: { path: string };
    };
    const apiToken = await createApiTokenAudited(t.db, { actorId: ada.id, ...meta }, "deploy bot");
    const cliPassword = "changed-on-the-command-line";
    await setOperatorPassword(t.db, "grace@example.com", cliPassword);

    const all: Array<{
      action: string;
      actorEmail: string | null;
      targetId: string | null;
      userAgent: string;
    }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await auditPage(adaToken, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { entries: typeof all; nextCursor: string | null };
      expect(page.entries.length).toBeLessThanOrEqual(3);
      all.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);

    expect(pages).toBe(3);
    expect(all.map((entry) => entry.action)).toEqual([
      "password.change",
      "api_token.create",
      "operator.password_reset",
      "operator.enable",
      "operator.disable",
      "operator.role",
      "operator.invite",
      "operator.create",
    ]);
    // A password changed with `npm run user:password` has no actor: nobody was signed in.
    expect(all[0]).toMatchObject({ actorEmail: null, targetId: grace.id });
    expect(new Set(all.slice(1).map((entry) => entry.actorEmail))).toEqual(new Set(["ada@example.com"]));
    expect(all.find((entry) => entry.action === "operator.disable")).toMatchObject({
      targetId: grace.id,
      userAgent: "vitest-admin",
    });

    const stored = JSON.stringify(await t.db.selectFrom("audit_event").selectAll().execute());
    for (const secret of [
      secretPassword,
      cliPassword,
      apiToken.token,
      invited.invite.path.slice("/invite/".length),
      reset.link.path.slice("/invite/".length),
    ]) {
      expect(stored).not.toContain(secret);
    }
    expect((await errorOf(await auditPage(adaToken, "?cursor=bm90LWEtY3Vyc29y"))).status).toBe(400);
  });

  it("records credential saves and removals by any operator with the kind and the check's outcome, never the value", async () => {
    const githubToken = "ghp_Q7vXk2LmN9pR4sT6wY8zA1bC3dE5fG7hJ9kM";
    const github = await startFakeGitHub({ token: githubToken });
    try {
      const endpoints = {
        githubApiUrl: github.url,
        vercelApiUrl: github.url,
        tidbCloudApiUrl: github.url,
        openaiBaseUrl: `${github.url}/v1`,
        anthropicBaseUrl: github.url,
        allowPrivateModelUrls: true,
      };
      const ctx: CredentialContext = {
        key: Buffer.alloc(32, 7),
        endpoints,
        platformDefaults: {},
        verify: (input) => verifyCredential(input, { endpoints }),
      };
      const request = { actorId: grace.id, ...meta };
      const saved = await saveCredentialAudited(t.db, ctx, request, { kind: "github", token: githubToken });
      expect(saved.verification.status).toBe("verified");
      await deleteCredentialAudited(t.db, request, "github");

      const page = (await (await auditPage(adaToken)).json()) as {
        entries: Array<{ action: string; actorEmail: string; detail: unknown; ip: string }>;
      };
      expect(page.entries.map((e) => [e.action, e.actorEmail, e.detail, e.ip])).toEqual([
        ["credential.delete", "grace@example.com", { kind: "github" }, "203.0.113.7"],
        ["credential.put", "grace@example.com", { kind: "github", verification: "verified" }, "203.0.113.7"],
      ]);
      expect(JSON.stringify(await t.db.selectFrom("audit_event").selectAll().execute())).not.toContain(
        "ghp_",
      );
    } finally {
      await github.close();
    }
  });
});
