"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { deleteCredential, saveCredential } from "@/server/credentials/credential-store";
import { credentialInputSchema, credentialKindSchema } from "@/server/credentials/kinds";
import { authedAction } from "./safe-action";

export const saveCredentialAction = authedAction(
  "saveCredential",
  credentialInputSchema,
  async (input, { operator, platform }) => {
    const result = await saveCredential(platform.db, platform.credentials, operator.id, input);
    revalidatePath("/settings");
    return result.verification;
  },
);

export const deleteCredentialAction = authedAction(
  "deleteCredential",
  z.object({ kind: credentialKindSchema }),
  async ({ kind }, { operator, db }) => {
    await deleteCredential(db, operator.id, kind);
    revalidatePath("/settings");
    return null;
  },
);
