"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { createApiTokenAudited, revokeApiTokenAudited } from "@/server/auth/api-token-changes";
import { apiTokenNameSchema } from "@/server/auth/api-tokens";
import { clientMeta } from "@/server/entry/client-meta";
import { authedAction } from "./safe-action";

export const createApiTokenAction = authedAction(
  "createApiToken",
  z.object({ name: apiTokenNameSchema }),
  async ({ name }, { operator, db }) => {
    const created = await createApiTokenAudited(
      db,
      { actorId: operator.id, ...clientMeta(await headers()) },
      name,
    );
    revalidatePath("/settings");
    // The plaintext token goes to the browser exactly once, in this response.
    return { token: created.token, apiToken: created.apiToken };
  },
);

export const revokeApiTokenAction = authedAction(
  "revokeApiToken",
  z.object({ tokenId: z.string().min(1).max(40) }),
  async ({ tokenId }, { operator, db }) => {
    await revokeApiTokenAudited(db, { actorId: operator.id, ...clientMeta(await headers()) }, tokenId);
    revalidatePath("/settings");
    return null;
  },
);
