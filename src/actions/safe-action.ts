import "server-only";
import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import type { Database } from "@/server/db/connection";
import { assertAdmin, type Operator, requireOperator } from "@/server/entry/current-user";
import { type PublicError, toPublicError } from "@/server/errors";
import { logError } from "@/server/http/log";
import { parseOrThrow } from "@/server/http/parse-input";
import { getPlatform } from "@/server/platform/get-platform";
import type { Platform } from "@/server/platform/platform";

// Every "use server" export is a public POST endpoint. They are all built here, so none can skip the session
// check or input parsing, and none can throw a raw error (or a 500) at the browser.

export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: PublicError };

function formToObject(input: unknown): unknown {
  return input instanceof FormData ? Object.fromEntries(input.entries()) : input;
}

async function run<T>(name: string, work: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return { ok: true, data: await work() };
  } catch (error) {
    // Next.js signals redirect()/notFound() by throwing; those must reach the framework.
    unstable_rethrow(error);
    logError(`action ${name}`, error);
    return { ok: false, error: toPublicError(error).body };
  }
}

type OperatorWork<S extends z.ZodType, T> = (
  input: z.output<S>,
  ctx: { operator: Operator; db: Database; platform: Platform },
) => Promise<T>;

function operatorAction<S extends z.ZodType, T>(
  name: string,
  schema: S,
  work: OperatorWork<S, T>,
  authorize: (operator: Operator) => void,
): (input: z.input<S> | FormData) => Promise<ActionResult<T>> {
  return (input) =>
    run(name, async () => {
      const operator = await requireOperator();
      authorize(operator);
      const parsed = parseOrThrow(schema, formToObject(input));
      const platform = await getPlatform();
      return work(parsed, { operator, db: platform.db, platform });
    });
}

/** An action for signed-in operators. */
export function authedAction<S extends z.ZodType, T>(name: string, schema: S, work: OperatorWork<S, T>) {
  return operatorAction(name, schema, work, () => undefined);
}

/** An action for admins only: any other operator gets `not_found:route`, as if it did not exist. */
export function adminAction<S extends z.ZodType, T>(name: string, schema: S, work: OperatorWork<S, T>) {
  return operatorAction(name, schema, work, assertAdmin);
}

/** An action anyone may call (sign-in). Input is still parsed; nothing else is assumed. */
export function publicAction<S extends z.ZodType, T>(
  name: string,
  schema: S,
  work: (input: z.output<S>, ctx: { db: Database; platform: Platform }) => Promise<T>,
): (input: z.input<S> | FormData) => Promise<ActionResult<T>> {
  return (input) =>
    run(name, async () => {
      const platform = await getPlatform();
      return work(parseOrThrow(schema, formToObject(input)), { db: platform.db, platform });
    });
}
