import nextEnv from "@next/env";
import { type Env, parseEnv } from "../../src/server/config/env-schema";
import { type Database, openDatabase, resolveDatabaseTarget } from "../../src/server/db/connection";

/** Loads `.env*` the way Next.js does, then validates: scripts see exactly what the server will see. */
export function loadScriptEnv(dev = true): Env {
  nextEnv.loadEnvConfig(process.cwd(), dev, { info: () => undefined, error: console.error });
  return parseEnv(process.env);
}

export async function withDatabase<T>(env: Env, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir));
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** `--name value` and `--name=value` flags; positional words come back in `_`. */
export function parseArgs(argv: string[]): { _: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split("=", 2);
    if (!name) continue;
    if (inline !== undefined) flags[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1]?.startsWith("--")) flags[name] = argv[++i] ?? "";
    else flags[name] = "true";
  }
  return { _: positional, flags };
}

export function fail(message: string): never {
  console.error(`\n✖ ${message}\n`);
  process.exit(1);
}
