"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { safeReturnPath } from "@/lib/safe-return-path";
import { endAuthSession } from "@/server/auth/auth-sessions";
import { clearSessionCookie, setSessionCookie } from "@/server/auth/current-user";
import { login } from "@/server/auth/login";
import { loginPolicy, SESSION_COOKIE } from "@/server/context";
import type { Database } from "@/server/db/connection";
import { clientMeta } from "@/server/http/client-meta";
import { type ActionResult, authedAction, publicAction } from "./safe-action";

const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email").max(254),
  password: z.string().min(1, "Enter your password").max(200),
});

async function startSession(db: Database, input: z.output<typeof signInSchema>): Promise<string> {
  const session = await login(db, { ...input, ...clientMeta(await headers()) }, loginPolicy);
  await setSessionCookie(session.token, session.expiresAt);
  return session.user.email;
}

/** The hydrated login form's call: it navigates itself on success. */
export const signIn = publicAction("signIn", signInSchema, async (input, { db }) => ({
  email: await startSession(db, input),
}));

const signInFromForm = publicAction(
  "signInWithForm",
  signInSchema.extend({ next: z.string().max(2_000).optional() }),
  async (input, { db }) => {
    await startSession(db, input);
    redirect(safeReturnPath(input.next));
  },
);

/**
 * The login form's `action`, used when it is submitted before JavaScript runs: a POST (never a GET that would put
 * the password in the URL), answered with a redirect on success or the form again with the error.
 */
export const signInWithForm = async (
  _previous: ActionResult<never> | null,
  form: FormData,
): Promise<ActionResult<never>> => signInFromForm(form);

export const signOut = authedAction("signOut", z.object({}), async (_input, { db }) => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (token) await endAuthSession(db, token);
  await clearSessionCookie();
  return null;
});
