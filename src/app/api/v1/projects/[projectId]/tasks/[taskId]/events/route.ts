import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { openTaskEventStream } from "@/server/tasks/task-event-stream";

const params = z.object({ projectId: z.string().min(1).max(40), taskId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params, request }) =>
  openTaskEventStream(db, operator.id, {
    ...params,
    lastEventId: request.headers.get("last-event-id"),
    after: new URL(request.url).searchParams.get("after"),
    signal: request.signal,
  }),
);
