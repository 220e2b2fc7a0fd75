"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { safeReturnPath } from "@/lib/safe-return-path";
import { endAuthSession } from "@/server/auth/auth-sessions";
import { login } from "@/server/auth/login";
import { clientMeta } from "@/server/entry/client-meta";
import { clearSessionCookie, setSessionCookie } from "@/server/entry/current-user";
import type { Platform } from "@/server/platform/platform";
import { type ActionResult, authedAction, publicAction } from "./safe-action";

const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email").max(254),
  password: z.string().min(1, "Enter your password").max(200),
});

async function startSession(platform: Platform, input: z.output<typeof signInSchema>): Promise<string> {
  const meta = clientMeta(await headers());
  const session = await login(platform.db, { ...input, ...meta }, platform.loginPolicy);
  await setSessionCookie(session.token, session.expiresAt);
  return session.user.email;
}

/** The hydrated login form's call: it navigates itself on success. */
export const signIn = publicAction("signIn", signInSchema, async (input, { platform }) => ({
  email: await startSession(platform, input),
}));

const signInFromForm = publicAction(
  "signInWithForm",
  signInSchema.extend({ next: z.string().max(2_000).optional() }),
  async (input, { platform }) => {
    await startSession(platform, input);
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

export const signOut = authedAction("signOut", z.object({}), async (_input, { platform }) => {
  const token = (await cookies()).get(platform.sessionCookie.name)?.value;
  if (token) await endAuthSession(platform.db, token);
  await clearSessionCookie();
  return null;
});
