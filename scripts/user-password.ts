import { setOperatorPassword } from "../src/server/auth/operators";
import { fail, loadScriptEnv, parseArgs, withDatabase } from "./lib/context";
import { ask } from "./lib/prompt";

async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  const email = flags.email ?? (await ask("Email: "));
  const password = flags.password ?? (await ask("New password (10+ characters): ", true));
  const env = loadScriptEnv();
  await withDatabase(env, (db) => setOperatorPassword(db, email, password));
  console.log(`Password changed for ${email}. Their sessions were signed out and their API tokens revoked.`);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
