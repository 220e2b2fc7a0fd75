"use server";

import { revalidatePath } from "next/cache";
import { type ModelDefaults, modelDefaultsSchema, saveModelDefaults } from "@/server/projects/model-defaults";
import { authedAction } from "./safe-action";

/** Settings: the agent, provider and model of new projects that name none. */
export const saveModelDefaultsAction = authedAction(
  "saveModelDefaults",
  modelDefaultsSchema,
  async (input, { operator, db }): Promise<ModelDefaults> => {
    const saved = await saveModelDefaults(db, operator.id, input);
    revalidatePath("/settings");
    revalidatePath("/projects");
    return saved;
  },
);
