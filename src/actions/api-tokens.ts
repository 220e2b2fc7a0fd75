"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { apiTokenNameSchema, createApiToken, revokeApiToken } from "@/server/auth/api-tokens";
import { authedAction } from "./safe-action";

export const createApiTokenAction = authedAction(
  "createApiToken",
  z.object({ name: apiTokenNameSchema }),
  async ({ name }, { operator, db }) => {
    const created = await createApiToken(db, operator.id, name);
    revalidatePath("/settings");
    // The plaintext token goes to the browser exactly once, in this response.
    return { token: created.token, apiToken: created.apiToken };
  },
);

export const revokeApiTokenAction = authedAction(
  "revokeApiToken",
  z.object({ tokenId: z.string().min(1).max(40) }),
  async ({ tokenId }, { operator, db }) => {
    await revokeApiToken(db, operator.id, tokenId);
    revalidatePath("/settings");
    return null;
  },
);
