import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { createTaskInputSchema } from "@/server/operations/create-task";
import { startTask } from "@/server/operations/start-task";
import { listProjectTasksOrThrow } from "@/server/projects/project-queries";

const params = z.object({ projectId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json({ tasks: await listProjectTasksOrThrow(db, operator.id, params.projectId) }),
);

/** A new task from a finished checkpoint: `{prompt, fromRevisionId?, title?}` → 202 `{task, revision, session}`. */
export const POST = apiRoute(
  { params, body: createTaskInputSchema.strict() },
  async ({ operator, platform, params, body }) =>
    Response.json(await startTask(platform, operator.id, { ...params, ...body }), { status: 202 }),
);
