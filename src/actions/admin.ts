"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { operatorChangeSchema } from "@/server/admin/change-operator";
import { adminCreateOperatorSchema, createOperatorAsAdmin } from "@/server/admin/create-operator-as-admin";
import { resetOperatorPassword } from "@/server/admin/reset-operator-password";
import { clientMeta } from "@/server/entry/client-meta";
import { updateOperator } from "@/server/operations/update-operator";
import { adminAction } from "./safe-action";

// The admin page's actions: the same operations as /api/v1/admin/*, and the same 404 for anyone not an admin.

const userIdSchema = z.string().min(1).max(40);

export const createOperatorAction = adminAction(
  "createOperator",
  adminCreateOperatorSchema,
  async (input, { operator, platform }) => {
    const request = { actorId: operator.id, publicUrl: platform.publicUrl, ...clientMeta(await headers()) };
    const created = await createOperatorAsAdmin(platform.db, request, input);
    revalidatePath("/admin");
    // The invite link goes to the browser once, in this response: Kiln keeps only its hash.
    return { email: created.operator.email, invite: created.invite };
  },
);

export const updateOperatorAction = adminAction(
  "updateOperator",
  z.object({ userId: userIdSchema, change: operatorChangeSchema }),
  async ({ userId, change }, { operator, platform }) => {
    const updated = await updateOperator(
      platform,
      { actorId: operator.id, ...clientMeta(await headers()) },
      userId,
      change,
    );
    revalidatePath("/admin");
    return updated;
  },
);

export const resetOperatorPasswordAction = adminAction(
  "resetOperatorPassword",
  z.object({ userId: userIdSchema }),
  async ({ userId }, { operator, platform }) => {
    const request = { actorId: operator.id, publicUrl: platform.publicUrl, ...clientMeta(await headers()) };
    const link = await resetOperatorPassword(platform.db, request, userId);
    revalidatePath("/admin");
    return link;
  },
);
