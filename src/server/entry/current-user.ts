import "server-only";
import { cookies } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import type { User } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { getPlatform } from "@/server/platform/get-platform";
import { findUserBySessionToken } from "../auth/auth-sessions";
import { type OperatorRole, toOperatorRole } from "../auth/roles";

export type Operator = {
  id: string;
  email: string;
  name: string | null;
  role: OperatorRole;
  isAdmin: boolean;
};

function toOperator(user: User): Operator {
  const role = toOperatorRole(user.role);
  return { id: user.id, email: user.email, name: user.name, role, isAdmin: role === "admin" };
}

/** The signed-in operator for this request (cached per render), or null. */
export const getCurrentOperator = cache(async (): Promise<Operator | null> => {
  const { db, sessionCookie } = await getPlatform();
  const token = (await cookies()).get(sessionCookie.name)?.value;
  if (!token) return null;
  const user = await findUserBySessionToken(db, token);
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

/** For admin pages: anonymous visitors go to login; signed-in operators who are not admins see a 404. */
export async function requireAdminOrNotFound(returnTo: string): Promise<Operator> {
  const operator = await requireOperatorOrRedirect(returnTo);
  if (!operator.isAdmin) notFound();
  return operator;
}

/** Admin-only routes and actions answer as if they did not exist, so their existence is not revealed. */
export function assertAdmin(operator: Operator): void {
  if (!operator.isAdmin) throw new AppError("not_found:route");
}

export async function setSessionCookie(token: string, expiresAt: number): Promise<void> {
  const { sessionCookie } = await getPlatform();
  (await cookies()).set(sessionCookie.name, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: sessionCookie.secure,
    path: "/",
    expires: new Date(expiresAt),
  });
}

export async function clearSessionCookie(): Promise<void> {
  (await cookies()).delete((await getPlatform()).sessionCookie.name);
}

export { toOperator };
