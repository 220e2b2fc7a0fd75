"use server";

import { z } from "zod";
import { appEnvInputSchema } from "@/server/app-env/app-env-rules";
import { deleteAppEnv } from "@/server/app-env/delete-app-env";
import { listAppEnv } from "@/server/app-env/list-app-env";
import { putAppEnv } from "@/server/app-env/put-app-env";
import { authedAction } from "./safe-action";

const projectId = z.string().min(1).max(40);

export const listAppEnvAction = authedAction(
  "listAppEnv",
  z.object({ projectId }),
  async (input, { operator, platform }) =>
    listAppEnv(platform.db, platform.credentials.key, operator.id, input.projectId),
);

export const putAppEnvAction = authedAction(
  "putAppEnv",
  appEnvInputSchema.and(z.object({ projectId })),
  async ({ projectId, ...variable }, { operator, platform }) =>
    putAppEnv(platform.db, platform.credentials.key, operator.id, projectId, variable),
);

export const deleteAppEnvAction = authedAction(
  "deleteAppEnv",
  z.object({ projectId, name: z.string().min(1).max(200) }),
  async (input, { operator, db }) => {
    await deleteAppEnv(db, operator.id, input.projectId, input.name);
    return null;
  },
);
