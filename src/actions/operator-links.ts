"use server";

import { headers } from "next/headers";
import { z } from "zod";
import { redeemOperatorLink } from "@/server/admin/operator-links";
import { passwordSchema } from "@/server/auth/password";
import { clientMeta } from "@/server/entry/client-meta";
import { setSessionCookie } from "@/server/entry/current-user";
import { publicAction } from "./safe-action";

// Public by design: the one-time link is the proof (256 random bits, hashed at rest, single use, expiring).
export const setPasswordFromLink = publicAction(
  "setPasswordFromLink",
  z.object({ token: z.string().min(1).max(200), password: passwordSchema }),
  async ({ token, password }, { platform }) => {
    const meta = clientMeta(await headers());
    const session = await redeemOperatorLink(platform.db, {
      token,
      password,
      sessionTtlMs: platform.loginPolicy.sessionTtlMs,
      meta,
    });
    await setSessionCookie(session.token, session.expiresAt);
    return { email: session.email };
  },
);
