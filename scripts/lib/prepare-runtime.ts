import { createOperator, ensureAdminByEmail } from "../../src/server/auth/operators";
import type { Env } from "../../src/server/config/env-schema";
import { ensureSecretKeyFile } from "../../src/server/crypto/secret-key";
import { resolveDatabaseTarget } from "../../src/server/db/connection";
import { createDatabaseIfMissing } from "../../src/server/db/create-database";
import { migrateToLatest } from "../../src/server/db/migrator";
import { countUsers } from "../../src/server/db/queries/users";
import { withDatabase } from "./context";
import { lockDownDataDir } from "./private-data";

/**
 * What `npm run dev` and `npm start` do before Next.js boots: a secret key, an up-to-date database, and either a
 * first operator (from KILN_ADMIN_EMAIL/KILN_ADMIN_PASSWORD) or instructions to create one. Never a default password.
 */
export async function prepareRuntime(env: Env): Promise<void> {
  const target = resolveDatabaseTarget(env.DATABASE_URL, env.dataDir);
  lockDownDataDir(env, target);
  const keyFile = ensureSecretKeyFile(env.KILN_SECRET_KEY, env.dataDir);
  if (keyFile) {
    console.log(
      `• KILN_SECRET_KEY is not set: generated one at ${keyFile} (keep it; it decrypts stored credentials).`,
    );
  }

  await createDatabaseIfMissing(target);
  const applied = await withDatabase(env, async (db) => {
    const done = await migrateToLatest(db);
    if ((await countUsers(db)) > 0) {
      if (env.KILN_ADMIN_EMAIL && (await ensureAdminByEmail(db, env.KILN_ADMIN_EMAIL))) {
        console.log(`• ${env.KILN_ADMIN_EMAIL} is now an admin (KILN_ADMIN_EMAIL).`);
      }
      return done;
    }
    if (env.KILN_ADMIN_EMAIL && env.KILN_ADMIN_PASSWORD) {
      const user = await createOperator(
        db,
        { email: env.KILN_ADMIN_EMAIL, password: env.KILN_ADMIN_PASSWORD },
        { role: "admin" },
      );
      console.log(`• Created the first operator ${user.email} from KILN_ADMIN_EMAIL / KILN_ADMIN_PASSWORD.`);
    } else {
      console.log(
        [
          "",
          "  No operator exists yet. Create one in another terminal:",
          "",
          "    npm run user:create -- --email you@example.com",
          "",
          "  (or set KILN_ADMIN_EMAIL and KILN_ADMIN_PASSWORD and restart)",
          "",
        ].join("\n"),
      );
    }
    return done;
  });
  const where = target.dialect === "mysql" ? "MySQL (DATABASE_URL)" : target.url;
  console.log(`• Database ${where}: ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}.`);
}
