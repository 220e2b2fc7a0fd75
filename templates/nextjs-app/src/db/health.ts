import { type Kysely, sql } from "kysely";
import { describeDatabaseError } from "./errors";

export type DatabaseHealth = { ok: true; latencyMs: number } | { ok: false; error: string };

class HealthTimeoutError extends Error {
  override name = "HealthTimeoutError";
}

/**
 * Whether the database answers `select 1` within `timeoutMs`. Never throws: a failure is described in one short
 * line without secrets. A query that outlives the timeout is left to finish (or fail) in the background.
 */
export async function checkDatabase<DB>(
  db: Kysely<DB>,
  databaseUrl: string | undefined,
  timeoutMs = 2_000,
): Promise<DatabaseHealth> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HealthTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const query = sql`select 1 as ok`.execute(db);
  // The query may settle after the timeout has answered; its rejection must not surface as unhandled.
  query.catch(() => undefined);
  try {
    await Promise.race([query, timeout]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: describeDatabaseError(error, databaseUrl) };
  } finally {
    clearTimeout(timer);
  }
}
