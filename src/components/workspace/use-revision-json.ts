"use client";

import { useEffect, useState } from "react";
import { z } from "zod";

const errorBody = z.object({ error: z.object({ message: z.string() }) });

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "ready"; data: T };

/**
 * GET an operator API resource of a checkpoint (`/api/v1/revisions/<id>/<path>`), read as `{ [key]: T }`: the
 * database (`database`) or a page of a table's rows (`database/rows?table=…&page=…`, key `rows`).
 */
export function useRevisionJson<T>(
  revisionId: string | null,
  resource: { path: string; key: string },
  ready: boolean,
  schema: z.ZodType<T>,
) {
  const { path, key } = resource;
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    if (!revisionId || !ready) return;
    const controller = new AbortController();
    setLoaded({ state: "loading" });
    fetch(`/api/v1/revisions/${encodeURIComponent(revisionId)}/${path}`, { signal: controller.signal })
      .then(async (response) => {
        const body: unknown = await response.json();
        if (!response.ok) {
          const error = errorBody.safeParse(body);
          setLoaded({
            state: "error",
            message: error.success ? error.data.error.message : `The server answered ${response.status}.`,
          });
          return;
        }
        // The route's documented shape: `{ database }` / `{ rows }` (src/app/api/v1/revisions/[revisionId]/…).
        const envelope = z.record(z.string(), z.unknown()).safeParse(body);
        const parsed = schema.safeParse(envelope.success ? envelope.data[key] : undefined);
        if (!parsed.success) {
          setLoaded({ state: "error", message: "The server's answer was not understood; reload the page." });
          return;
        }
        setLoaded({ state: "ready", data: parsed.data });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setLoaded({
          state: "error",
          message: error instanceof Error ? error.message : "The request failed.",
        });
      });
    return () => controller.abort();
  }, [revisionId, path, key, ready, schema]);
  return loaded;
}
