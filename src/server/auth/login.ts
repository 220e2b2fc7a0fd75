import type { Executor } from "@/server/db/connection";
import { findUserByEmail, normalizeEmail } from "@/server/db/queries/users";
import type { User } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { type SessionMeta, startAuthSession } from "./auth-sessions";
import { verifyAgainstNothing, verifyPassword } from "./password";
import { type RateLimitRule, rateLimitWait, recordHit, resetBucket } from "./rate-limit";

export type LoginPolicy = {
  maxAttemptsPerAccount: number;
  maxAttemptsPerIp: number;
  windowMs: number;
  sessionTtlMs: number;
};

export type LoginInput = { email: string; password: string } & SessionMeta;

function rules(input: LoginInput, policy: LoginPolicy): RateLimitRule[] {
  const account: RateLimitRule = {
    bucket: `login:account:${normalizeEmail(input.email)}`,
    limit: policy.maxAttemptsPerAccount,
    windowMs: policy.windowMs,
  };
  if (!input.ip) return [account];
  return [
    account,
    { bucket: `login:ip:${input.ip}`, limit: policy.maxAttemptsPerIp, windowMs: policy.windowMs },
  ];
}

function waitMessage(waitMs: number): string {
  const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
  return `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

/**
 * Checks the password and opens a session. Failed attempts count against the account and the client IP;
 * past either limit the attempt is refused before the password is even checked.
 */
export async function login(
  db: Executor,
  input: LoginInput,
  policy: LoginPolicy,
  now = Date.now(),
): Promise<{ user: User; token: string; expiresAt: number }> {
  const limits = rules(input, policy);
  for (const rule of limits) {
    const wait = await rateLimitWait(db, rule, now);
    if (wait > 0) throw new AppError("rate_limited:login", waitMessage(wait));
  }

  const user = await findUserByEmail(db, input.email);
  const valid = user
    ? await verifyPassword(input.password, user.password_hash)
    : await verifyAgainstNothing(input.password);
  if (!user || !valid) {
    for (const rule of limits) await recordHit(db, rule, now);
    throw new AppError("unauthorized:credentials");
  }

  const account = limits[0];
  if (account) await resetBucket(db, account);
  const session = await startAuthSession(db, user.id, input, policy.sessionTtlMs, now);
  return { user, ...session };
}
