import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { endAuthSession, findUserBySessionToken } from "@/server/auth/auth-sessions";
import { type LoginPolicy, login } from "@/server/auth/login";
import { createOperator, setOperatorPassword } from "@/server/auth/operators";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";

const policy: LoginPolicy = {
  maxAttemptsPerAccount: 3,
  maxAttemptsPerIp: 5,
  maxAttemptsPerAccountTotal: 8,
  windowMs: 15 * 60_000,
  sessionTtlMs: 60 * 60_000,
};
const password = "correct horse battery";
const wrong = "wrong horse battery";
const minute = 60_000;

describe.each(testDatabases)("operators, login and sessions on $name", (factory) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await factory.open();
  });
  afterEach(async () => {
    await t.drop();
  });

  function signUp(email: string, options: { password?: string; name?: string } = {}) {
    return createOperator(
      t.db,
      { email, password: options.password ?? password, name: options.name },
      { bcryptCost: 4 },
    );
  }

  function attempt(email: string, pw: string, now: number, ip: string | null = "203.0.113.7") {
    return login(t.db, { email, password: pw, ip, userAgent: "vitest" }, policy, now);
  }

  it("signs an operator in by email in any case, and the session token finds them", async () => {
    const created = await signUp("Ada@Example.com", { name: "Ada" });
    expect(created.email).toBe("ada@example.com");

    const now = Date.now();
    const session = await attempt("  ADA@example.COM ", password, now);
    expect(session.user).toMatchObject({ id: created.id, email: "ada@example.com", name: "Ada" });
    expect(session.expiresAt).toBe(now + policy.sessionTtlMs);

    const found = await findUserBySessionToken(t.db, session.token, now + minute);
    expect(found?.id).toBe(created.id);
  });

  it("answers a wrong password and an unknown email with the same error", async () => {
    await signUp("ada@example.com");
    const now = Date.now();
    const wrongPassword = await appErrorOf(attempt("ada@example.com", wrong, now));
    const unknownEmail = await appErrorOf(attempt("nobody@example.com", password, now));
    expect(wrongPassword.code).toBe("unauthorized:credentials");
    expect(unknownEmail.code).toBe("unauthorized:credentials");
    expect(unknownEmail.message).toBe(wrongPassword.message);
  });

  it("records each failed sign-in in the audit log, with the account, the reason and the address, never the password", async () => {
    const ada = await signUp("ada@example.com");
    const now = Date.now();
    await appErrorOf(attempt("Ada@Example.com", wrong, now));
    await appErrorOf(attempt("nobody@example.com", "a guess", now + 1));
    await attempt("ada@example.com", password, now + 2);
    const rows = await t.db
      .selectFrom("audit_event")
      .select(["action", "actor_user_id", "target_id", "detail", "ip", "user_agent"])
      .orderBy("created_at")
      .execute();
    expect(rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) }))).toEqual([
      {
        action: "login.failed",
        actor_user_id: null,
        target_id: ada.id,
        detail: { email: "ada@example.com", reason: "wrong_password" },
        ip: "203.0.113.7",
        user_agent: "vitest",
      },
      {
        action: "login.failed",
        actor_user_id: null,
        target_id: null,
        detail: { reason: "unknown_account" },
        ip: "203.0.113.7",
        user_agent: "vitest",
      },
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/horse|a guess|nobody/);
  });

  it("locks an account at one address after too many failures, even with the right password, until the window ends", async () => {
    await signUp("ada@example.com");
    const t0 = Date.now();
    // Different spellings of the address count against the same account.
    for (const email of ["ada@example.com", "ADA@example.com", " Ada@Example.com"]) {
      expect((await appErrorOf(attempt(email, wrong, t0))).code).toBe("unauthorized:credentials");
    }

    const locked = await appErrorOf(attempt("ada@example.com", password, t0 + minute));
    expect(locked.code).toBe("rate_limited:login");
    expect(locked.message).toBe("Too many sign-in attempts. Try again in 14 minutes.");

    const later = await appErrorOf(attempt("ada@example.com", password, t0 + 14 * minute + 30_000));
    expect(later.code).toBe("rate_limited:login");
    expect(later.message).toBe("Too many sign-in attempts. Try again in 1 minute.");

    // Refused attempts do not push the end of the window further out.
    const session = await attempt("ada@example.com", password, t0 + policy.windowMs);
    expect(session.token).toBeTruthy();
  });

  it("never lets a stranger at another address lock the operator out", async () => {
    const ada = await signUp("ada@example.com");
    const t0 = Date.now();
    const stranger = "192.0.2.66";
    const answers: string[] = [];
    for (let i = 0; i < 20; i++)
      answers.push((await appErrorOf(attempt("ada@example.com", wrong, t0, stranger))).code);
    expect(answers.filter((code) => code === "unauthorized:credentials")).toHaveLength(
      policy.maxAttemptsPerAccount,
    );
    expect(answers.slice(policy.maxAttemptsPerAccount).every((code) => code === "rate_limited:login")).toBe(
      true,
    );

    const session = await attempt("ada@example.com", password, t0 + minute, "203.0.113.7");
    expect(session.user.id).toBe(ada.id);
  });

  it("counts parallel attempts one by one: 20 at once against a limit of 5 check at most 5 passwords", async () => {
    await signUp("ada@example.com");
    const t0 = Date.now();
    const burst = {
      ...policy,
      maxAttemptsPerAccount: 5,
      maxAttemptsPerIp: 100,
      maxAttemptsPerAccountTotal: 100,
    };
    const codes = await Promise.all(
      Array.from({ length: 20 }, () =>
        appErrorOf(
          login(
            t.db,
            { email: "ada@example.com", password: wrong, ip: "192.0.2.66", userAgent: "x" },
            burst,
            t0,
          ),
        ).then((error) => error.code),
      ),
    );
    expect(codes.filter((code) => code === "unauthorized:credentials")).toHaveLength(5);
    expect(codes.filter((code) => code === "rate_limited:login")).toHaveLength(15);
  });

  it("stops guessing spread over many addresses at the account-wide ceiling", async () => {
    await signUp("ada@example.com");
    const t0 = Date.now();
    // 4 addresses × 2 failures: under the per-address limits, at the account's ceiling of 8.
    for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]) {
      for (let i = 0; i < 2; i++) await rejectionOf(attempt("ada@example.com", wrong, t0, address));
    }
    const capped = await appErrorOf(attempt("ada@example.com", password, t0, "203.0.113.7"));
    expect(capped.code).toBe("rate_limited:login");
    expect(
      (await attempt("ada@example.com", password, t0 + policy.windowMs, "203.0.113.7")).token,
    ).toBeTruthy();
  });

  it("does not lock other accounts when one is locked", async () => {
    await signUp("ada@example.com");
    const grace = await signUp("grace@example.com");
    const t0 = Date.now();
    for (let i = 0; i < policy.maxAttemptsPerAccount; i++)
      await rejectionOf(attempt("ada@example.com", wrong, t0));
    expect((await appErrorOf(attempt("ada@example.com", password, t0))).code).toBe("rate_limited:login");

    const session = await attempt("grace@example.com", password, t0, "198.51.100.1");
    expect(session.user.id).toBe(grace.id);
  });

  it("clears an account's failures when it signs in", async () => {
    await signUp("ada@example.com");
    const t0 = Date.now();
    await rejectionOf(attempt("ada@example.com", wrong, t0));
    await rejectionOf(attempt("ada@example.com", wrong, t0));
    await attempt("ada@example.com", password, t0);
    await rejectionOf(attempt("ada@example.com", wrong, t0));
    await rejectionOf(attempt("ada@example.com", wrong, t0));
    // Four failures in the window, but never three in a row without a success.
    const session = await attempt("ada@example.com", password, t0);
    expect(session.token).toBeTruthy();
  });

  it("limits one IP that guesses across many accounts, but not other IPs", async () => {
    const emails = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"];
    for (const email of emails) await signUp(email);
    const t0 = Date.now();
    const attacker = "192.0.2.66";
    // 2 + 2 + 1 failures: under the per-account limit everywhere, at the per-IP limit in total.
    for (const email of [
      "a@example.com",
      "a@example.com",
      "b@example.com",
      "b@example.com",
      "c@example.com",
    ]) {
      expect((await appErrorOf(attempt(email, wrong, t0, attacker))).code).toBe("unauthorized:credentials");
    }
    expect((await appErrorOf(attempt("d@example.com", password, t0, attacker))).code).toBe(
      "rate_limited:login",
    );
    expect((await attempt("d@example.com", password, t0, "198.51.100.1")).token).toBeTruthy();
    expect((await attempt("d@example.com", password, t0 + policy.windowMs, attacker)).token).toBeTruthy();
  });

  it("ends a session at its expiry time", async () => {
    await signUp("ada@example.com");
    const now = Date.now();
    const { token, expiresAt } = await attempt("ada@example.com", password, now);
    expect(await findUserBySessionToken(t.db, token, expiresAt - 1)).toBeDefined();
    expect(await findUserBySessionToken(t.db, token, expiresAt)).toBeUndefined();
    expect(await findUserBySessionToken(t.db, token, expiresAt + minute)).toBeUndefined();
  });

  it("signs out one session without touching the others", async () => {
    await signUp("ada@example.com");
    const now = Date.now();
    const laptop = await attempt("ada@example.com", password, now);
    const phone = await attempt("ada@example.com", password, now);
    await endAuthSession(t.db, laptop.token, now);
    expect(await findUserBySessionToken(t.db, laptop.token, now)).toBeUndefined();
    expect((await findUserBySessionToken(t.db, phone.token, now))?.email).toBe("ada@example.com");
  });

  it("stores only a hash of the session token", async () => {
    await signUp("ada@example.com");
    const { token } = await attempt("ada@example.com", password, Date.now());
    const rows = await t.db.selectFrom("auth_session").selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice(0, 20));
  });

  it("finds nobody for a made-up, empty or oversized token", async () => {
    await signUp("ada@example.com");
    const { token } = await attempt("ada@example.com", password, Date.now());
    for (const guess of ["", `${token.slice(0, -1)}x`, token.repeat(10), "kiln_session"]) {
      expect(await findUserBySessionToken(t.db, guess)).toBeUndefined();
    }
  });

  it("keeps signing in when the browser sends an absurdly long user agent", async () => {
    await signUp("ada@example.com");
    const now = Date.now();
    const session = await login(
      t.db,
      { email: "ada@example.com", password, ip: "2001:db8::1", userAgent: "Mozilla/5.0 ".repeat(200) },
      policy,
      now,
    );
    expect((await findUserBySessionToken(t.db, session.token, now))?.email).toBe("ada@example.com");
  });

  it("changes a password and signs the operator out everywhere", async () => {
    await signUp("ada@example.com");
    const now = Date.now();
    const sessions = [
      await attempt("ada@example.com", password, now),
      await attempt("ada@example.com", password, now),
    ];

    await setOperatorPassword(t.db, "ADA@example.com", "a brand new passphrase", now + minute);

    for (const session of sessions) {
      expect(await findUserBySessionToken(t.db, session.token, now + 2 * minute)).toBeUndefined();
    }
    expect((await appErrorOf(attempt("ada@example.com", password, now + 2 * minute))).code).toBe(
      "unauthorized:credentials",
    );
    const fresh = await attempt("ada@example.com", "a brand new passphrase", now + 2 * minute);
    expect(await findUserBySessionToken(t.db, fresh.token, now + 2 * minute)).toBeDefined();
  });

  it("refuses to set a password for an unknown operator", async () => {
    expect(
      (await appErrorOf(setOperatorPassword(t.db, "nobody@example.com", "a brand new passphrase"))).code,
    ).toBe("not_found:user");
  });

  it("refuses a second operator with the same email in another case", async () => {
    await signUp("ada@example.com");
    expect((await appErrorOf(signUp("ADA@Example.com"))).code).toBe("conflict:email");
    const users = await t.db.selectFrom("user").select("email").execute();
    expect(users).toEqual([{ email: "ada@example.com" }]);
  });

  it.each([
    ["email", { email: "not-an-email", password }],
    ["password", { email: "ada@example.com", password: "short" }],
    ["password", { email: "ada@example.com", password: "é".repeat(40) }],
  ])("refuses an operator with a bad %s", async (field, input) => {
    const error = await rejectionOf(createOperator(t.db, input, { bcryptCost: 4 }));
    expect(error).toBeInstanceOf(ZodError);
    if (!(error instanceof ZodError)) return;
    expect(error.issues.map((issue) => issue.path.join("."))).toContain(field);
    expect(await t.db.selectFrom("user").select("id").execute()).toEqual([]);
  });
});
