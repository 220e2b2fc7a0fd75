"use server";

import { cookies, headers } from "next/headers";
import { z } from "zod";
import { endAuthSession } from "@/server/auth/auth-sessions";
import { clearSessionCookie, setSessionCookie } from "@/server/auth/current-user";
import { login } from "@/server/auth/login";
import { loginPolicy, SESSION_COOKIE, trustProxy } from "@/server/context";
import { clientMeta } from "@/server/http/client-meta";
import { authedAction, publicAction } from "./safe-action";

const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email").max(254),
  password: z.string().min(1, "Enter your password").max(200),
});

export const signIn = publicAction("signIn", signInSchema, async (input, { db }) => {
  const meta = clientMeta(await headers(), trustProxy);
  const session = await login(db, { ...input, ...meta }, loginPolicy);
  await setSessionCookie(session.token, session.expiresAt);
  return { email: session.user.email };
});

export const signOut = authedAction("signOut", z.object({}), async (_input, { db }) => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (token) await endAuthSession(db, token);
  await clearSessionCookie();
  return null;
});
