"use server";

import { z } from "zod";
import { readPreparationStatus } from "@/server/preparation/preparation-status";
import { preparationOrder } from "@/server/preparation/prepare-caches";
import { authedAction } from "./safe-action";

/** What the dashboard's preparation notice polls while the boot preparation runs. */
export const preparationStatusAction = authedAction(
  "preparationStatus",
  z.object({}),
  async (_input, { platform }) => readPreparationStatus(platform.caches, preparationOrder),
);
