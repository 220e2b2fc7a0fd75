import { recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { findUserByEmail, normalizeEmail } from "@/server/db/queries/users";
import type { User } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { type SessionMeta, startAuthSession } from "./auth-sessions";
import { verifyAgainstNothing, verifyPassword } from "./password";
import {
  claimAttempt,
  type RateLimitClaim,
  type RateLimitRule,
  releaseAttempt,
  resetBucket,
} from "./rate-limit";

export type LoginPolicy = {
  /** Failures allowed for one account from one client address: the limit a guesser meets first. */
  maxAttemptsPerAccount: number;
  /** Failures allowed from one client address across all accounts (spraying many accounts). */
  maxAttemptsPerIp: number;
  /** Failures allowed for one account from all addresses together: a far higher ceiling against botnets. */
  maxAttemptsPerAccountTotal: number;
  windowMs: number;
  sessionTtlMs: number;
};

export type LoginInput = { email: string; password: string } & SessionMeta;

/**
 * Checked in this order, each counted only when the ones before it let the attempt through: refused attempts
 * from one address never reach the account-wide ceiling, so one stranger cannot lock an operator out of every
 * address (see docs/security.md).
 */
function rules(input: LoginInput, policy: LoginPolicy): RateLimitRule[] {
  const account = normalizeEmail(input.email);
  // No known address (a server started without Kiln's front, see client-address.ts): all such clients share one.
  const address = input.ip ?? "unknown";
  const windowMs = policy.windowMs;
  return [
    { bucket: `login:ip:${address}`, limit: policy.maxAttemptsPerIp, windowMs },
    { bucket: `login:account-ip:${account}|${address}`, limit: policy.maxAttemptsPerAccount, windowMs },
    { bucket: `login:account:${account}`, limit: policy.maxAttemptsPerAccountTotal, windowMs },
  ];
}

function waitMessage(waitMs: number): string {
  const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
  return `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

/**
 * Checks the password and opens a session. Every attempt is counted before the password is checked; past a
 * limit it is refused without checking. A success gives its counts back, so only failures use up the limits.
 */
export async function login(
  db: Executor,
  input: LoginInput,
  policy: LoginPolicy,
  now = Date.now(),
): Promise<{ user: User; token: string; expiresAt: number }> {
  const claims: RateLimitClaim[] = [];
  for (const rule of rules(input, policy)) {
    const claim = await claimAttempt(db, rule, now);
    if (claim.waitMs > 0) throw new AppError("rate_limited:login", waitMessage(claim.waitMs));
    claims.push(claim);
  }

  const user = await findUserByEmail(db, input.email);
  const valid = user
    ? await verifyPassword(input.password, user.password_hash)
    : await verifyAgainstNothing(input.password);
  // A disabled operator hears the same as a wrong password: the answer does not say the account exists.
  if (!user || !valid || user.disabled_at !== null) {
    await recordFailedLogin(db, input, user, now);
    throw new AppError("unauthorized:credentials");
  }

  const [address, accountAtAddress, account] = claims;
  if (address) await releaseAttempt(db, address);
  if (accountAtAddress) await resetBucket(db, accountAtAddress.rule);
  if (account) await releaseAttempt(db, account);
  const session = await startAuthSession(db, user.id, input, policy.sessionTtlMs, now);
  return { user, ...session };
}

/**
 * A failed sign-in goes to the audit log for admins (who tried which account, from where, and why it failed). Only
 * attempts that reached the password check are recorded: refused ones are bounded by the limits above, so a flood
 * of guesses cannot flood the log. The address typed is kept only when it names an operator.
 */
async function recordFailedLogin(db: Executor, input: LoginInput, user: User | undefined, now: number) {
  const reason = !user ? "unknown_account" : user.disabled_at !== null ? "disabled" : "wrong_password";
  await recordAudit(
    db,
    {
      actorId: null,
      action: "login.failed",
      target: user ? { type: "operator", id: user.id } : null,
      detail: user ? { email: user.email, reason } : { reason },
      ip: input.ip,
      userAgent: input.userAgent,
    },
    now,
  );
}
