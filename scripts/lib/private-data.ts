import fs from "node:fs";
import path from "node:path";
import type { Env } from "../../src/server/config/env-schema";
import { SECRET_KEY_FILE } from "../../src/server/crypto/secret-key";
import type { DatabaseTarget } from "../../src/server/db/connection";

// The data dir holds the control-plane database (password hashes, encrypted credentials, session hashes) and the
// key that decrypts those credentials: nobody but Kiln's own user may read it. Modes are set here, before anything
// opens a file, and re-applied on every start so an install made before this rule is brought into line.

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

function restrict(file: string, mode: number): void {
  if (fs.existsSync(file)) fs.chmodSync(file, mode);
}

/**
 * Makes the data dir 0700 (0701 when it was searchable) and the embedded database, its WAL/shared-memory/journal files and the secret key 0600.
 * The database file is created here when missing: SQLite gives its -wal and -shm files the mode of the database
 * file, so creating it 0600 first keeps every later file private too (whatever the process umask).
 */
export function lockDownDataDir(env: Env, target: DatabaseTarget): void {
  fs.mkdirSync(env.dataDir, { recursive: true, mode: PRIVATE_DIR });
  // Others keep the search bit only (o+x: they cannot list names nor read the private files): local sandboxes run
  // as their own uid and reach their directories through it (the sandbox adapter sets it). Taking it away on a
  // start would cut every running sandbox of another server sharing this data dir, or of this one's last run.
  const searchable = fs.statSync(env.dataDir).mode & 0o001;
  fs.chmodSync(env.dataDir, PRIVATE_DIR | searchable);
  restrict(path.join(env.dataDir, SECRET_KEY_FILE), PRIVATE_FILE);
  if (target.dialect !== "sqlite" || !target.file) return;
  const file = path.resolve(target.file);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
  fs.closeSync(fs.openSync(file, "a", PRIVATE_FILE));
  for (const suffix of ["", "-wal", "-shm", "-journal"]) restrict(`${file}${suffix}`, PRIVATE_FILE);
}
