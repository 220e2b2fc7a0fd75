import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { getDb, SESSION_COOKIE, secureCookies } from "@/server/context";
import type { User } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { findUserBySessionToken } from "./auth-sessions";

export type Operator = { id: string; email: string; name: string | null };

function toOperator(user: User): Operator {
  return { id: user.id, email: user.email, name: user.name };
}

/** The signed-in operator for this request (cached per render), or null. */
export const getCurrentOperator = cache(async (): Promise<Operator | null> => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  const user = await findUserBySessionToken(await getDb(), token);
  return user ? toOperator(user) : null;
});

/** For server actions and route handlers: throws `unauthorized:session` when nobody is signed in. */
export async function requireOperator(): Promise<Operator> {
  const operator = await getCurrentOperator();
  if (!operator) throw new AppError("unauthorized:session");
  return operator;
}

/** For pages: sends anonymous visitors to the login page, remembering where they were going. */
export async function requireOperatorOrRedirect(returnTo: string): Promise<Operator> {
  const operator = await getCurrentOperator();
  if (!operator) redirect(`/login?next=${encodeURIComponent(returnTo)}`);
  return operator;
}

export async function setSessionCookie(token: string, expiresAt: number): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: secureCookies,
    path: "/",
    expires: new Date(expiresAt),
  });
}

export async function clearSessionCookie(): Promise<void> {
  (await cookies()).delete(SESSION_COOKIE);
}

export { toOperator };
