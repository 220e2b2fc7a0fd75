import { randomBytes } from "node:crypto";
import { BCRYPT_COST, hashPassword, passwordSchema } from "../src/server/auth/password";
import { fail, parseArgs } from "./lib/context";
import { ask } from "./lib/prompt";

// Prints a bcrypt hash (for provisioning operators by SQL). With --generate, also makes a strong password.
async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  let password = flags.password;
  if (flags.generate === "true") {
    password = randomBytes(18).toString("base64url");
    console.log(`Password: ${password}`);
  }
  password ??= await ask("Password to hash: ", true);
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) fail(checked.error.issues[0]?.message ?? "Invalid password");
  console.log(`bcrypt (cost ${BCRYPT_COST}):`);
  console.log(await hashPassword(checked.data));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
