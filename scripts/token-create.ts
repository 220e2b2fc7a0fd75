import { createApiToken } from "../src/server/auth/api-tokens";
import { findUserByEmail } from "../src/server/db/queries/users";
import { fail, loadScriptEnv, parseArgs, withDatabase } from "./lib/context";

// Prints the token once, alone on the last line, so scripts can capture it with `| tail -n 1`.
async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  if (!flags.email) fail("Usage: npm run token:create -- --email E [--name N]");
  const env = loadScriptEnv();
  const token = await withDatabase(env, async (db) => {
    const user = await findUserByEmail(db, flags.email ?? "");
    if (!user) fail(`No operator with email ${flags.email}. Create one with npm run user:create.`);
    return createApiToken(db, user.id, flags.name ?? "cli");
  });
  console.log(`Created API token "${token.apiToken.name}". It is shown once:`);
  console.log(token.token);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
