"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { deleteCredentialAudited, saveCredentialAudited } from "@/server/credentials/credential-changes";
import { credentialInputSchema, credentialKindSchema } from "@/server/credentials/kinds";
import { clientMeta } from "@/server/entry/client-meta";
import { authedAction } from "./safe-action";

export const saveCredentialAction = authedAction(
  "saveCredential",
  credentialInputSchema,
  async (input, { operator, platform }) => {
    const request = { actorId: operator.id, ...clientMeta(await headers()) };
    const result = await saveCredentialAudited(platform.db, platform.credentials, request, input);
    revalidatePath("/settings");
    return result.verification;
  },
);

export const deleteCredentialAction = authedAction(
  "deleteCredential",
  z.object({ kind: credentialKindSchema }),
  async ({ kind }, { operator, db }) => {
    await deleteCredentialAudited(db, { actorId: operator.id, ...clientMeta(await headers()) }, kind);
    revalidatePath("/settings");
    return null;
  },
);
