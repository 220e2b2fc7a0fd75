import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { vi } from "vitest";
import { createApiToken } from "@/server/auth/api-tokens";
import { createOperator } from "@/server/auth/operators";
import type { Database } from "@/server/db/connection";

// What a route test starts from: route modules called as Next.js calls them, on the test's own database, with a
// data dir and secret key of its own and two operators holding real API tokens.

export type RouteHandler = (
  request: Request,
  context: { params?: Promise<Record<string, string | string[]>> },
) => Promise<Response>;

type Operator = Awaited<ReturnType<typeof createOperator>>;

export type RouteWorld = {
  dataDir: string;
  ada: Operator;
  grace: Operator;
  adaToken: string;
  graceToken: string;
};

export const operatorPassword = "correct horse battery";

/**
 * Route modules freshly imported so their platform is built on `db`: the process-wide pool holder
 * (db/shared-database.ts) is the one place the platform takes its database from.
 */
export async function importRoutesOn<T>(db: Database, load: () => Promise<T>): Promise<T> {
  vi.resetModules();
  (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb = Promise.resolve(db);
  return load();
}

/** Ada and Grace, each with an API token (Ada is the first operator, so the admin). */
export async function twoOperators(db: Database): Promise<Omit<RouteWorld, "dataDir">> {
  const ada = await createOperator(
    db,
    { email: "ada@example.com", password: operatorPassword },
    { bcryptCost: 4 },
  );
  const grace = await createOperator(
    db,
    { email: "grace@example.com", password: operatorPassword },
    { bcryptCost: 4 },
  );
  const adaToken = (await createApiToken(db, ada.id, "tests")).token;
  const graceToken = (await createApiToken(db, grace.id, "tests")).token;
  return { ada, grace, adaToken, graceToken };
}

/** A data dir and secret key of the test's own (plus `env`), then the two operators. */
export async function openRouteWorld(
  db: Database,
  name: string,
  options: { env?: Record<string, string>; key?: Buffer } = {},
): Promise<RouteWorld> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-${name}-`));
  vi.stubEnv("KILN_DATA_DIR", dataDir);
  vi.stubEnv("KILN_SECRET_KEY", (options.key ?? Buffer.alloc(32, 7)).toString("base64"));
  for (const [variable, value] of Object.entries(options.env ?? {})) vi.stubEnv(variable, value);
  return { dataDir, ...(await twoOperators(db)) };
}

/** Undoes openRouteWorld and importRoutesOn; the test drops its own database. */
export function closeRouteWorld(world: Pick<RouteWorld, "dataDir"> | undefined): void {
  delete (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb;
  vi.unstubAllEnvs();
  if (world) fs.rmSync(world.dataDir, { recursive: true, force: true });
}
