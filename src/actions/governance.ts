"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { clientMeta } from "@/server/entry/client-meta";
import { operatorQuotasSchema, setOperatorQuotas } from "@/server/governance/set-operator-quotas";
import { pauseInputSchema, pausePlatform } from "@/server/operations/pause-platform";
import { resumePlatform } from "@/server/operations/resume-platform";
import { adminAction } from "./safe-action";

export const pausePlatformAction = adminAction(
  "pausePlatform",
  pauseInputSchema,
  async ({ reason }, { operator, platform }) => {
    const result = await pausePlatform(platform, {
      reason,
      by: operator.id,
      from: clientMeta(await headers()),
    });
    // Every dashboard page shows the banner.
    revalidatePath("/", "layout");
    return { cancelled: result.cancelled };
  },
);

export const resumePlatformAction = adminAction(
  "resumePlatform",
  z.object({}).strict(),
  async (_input, { operator, platform }) => {
    const result = await resumePlatform(platform, { by: operator.id, from: clientMeta(await headers()) });
    revalidatePath("/", "layout");
    return result;
  },
);

export const setOperatorQuotasAction = adminAction(
  "setOperatorQuotas",
  operatorQuotasSchema.extend({ userId: z.string().min(1).max(40) }),
  async ({ userId, ...quotas }, { operator, db }) => {
    const meta = clientMeta(await headers());
    await setOperatorQuotas(db, userId, quotas, { actorId: operator.id, ...meta });
    revalidatePath("/admin");
    revalidatePath("/settings");
    return null;
  },
);
