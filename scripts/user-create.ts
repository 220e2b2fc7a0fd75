import { ZodError } from "zod";
import { createOperator } from "../src/server/auth/operators";
import { fail, loadScriptEnv, parseArgs, withDatabase } from "./lib/context";
import { ask } from "./lib/prompt";

async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  const email = flags.email ?? (await ask("Email: "));
  const password = flags.password ?? (await ask("Password (10+ characters): ", true));
  const env = loadScriptEnv();
  const user = await withDatabase(env, (db) => createOperator(db, { email, password, name: flags.name }));
  console.log(`Created operator ${user.email}. Sign in at ${env.KILN_PUBLIC_URL}/login`);
}

function explain(error: unknown): string {
  if (error instanceof ZodError) {
    return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("\n");
  }
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => fail(explain(error)));
