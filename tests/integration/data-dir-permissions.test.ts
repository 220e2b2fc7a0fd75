import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "@/server/config/env-schema";
import { openDatabase, resolveDatabaseTarget } from "@/server/db/connection";
import { prepareRuntime } from "../../scripts/lib/prepare-runtime";

// What `npm run dev` / `npm start` leave on disk, read back as another local user would see it: the data dir holds
// password hashes, encrypted credentials and the key that decrypts them.

function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

describe("data dir permissions", () => {
  let root: string;
  let previousUmask: number;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-perms-"));
    // The common default: files 0644, directories 0755 unless Kiln asks for less.
    previousUmask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(previousUmask);
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function startAndWrite(dataDir: string) {
    const env = parseEnv({ KILN_DATA_DIR: dataDir });
    await prepareRuntime(env);
    // The server opens the same file and writes: that is when SQLite makes the -wal and -shm files.
    const db = await openDatabase(resolveDatabaseTarget(undefined, env.dataDir));
    await db
      .insertInto("rate_limit")
      .values({ bucket: `perms-${Date.now()}-${Math.random()}`, hits: 1, window_started_at: Date.now() })
      .execute();
    return db;
  }

  it("creates the data dir 0700 and kiln.db, its -wal and -shm files and secret.key 0600", async () => {
    const dataDir = path.join(root, "data");
    const db = await startAndWrite(dataDir);
    try {
      const db0 = path.join(dataDir, "kiln.db");
      expect(fs.existsSync(`${db0}-wal`)).toBe(true);
      expect(fs.existsSync(`${db0}-shm`)).toBe(true);
      expect({
        dir: modeOf(dataDir),
        db: modeOf(db0),
        wal: modeOf(`${db0}-wal`),
        shm: modeOf(`${db0}-shm`),
        key: modeOf(path.join(dataDir, "secret.key")),
      }).toEqual({ dir: "700", db: "600", wal: "600", shm: "600", key: "600" });
    } finally {
      await db.destroy();
    }
  });

  it("brings an older install's readable files into line on the next start", async () => {
    const dataDir = path.join(root, "data");
    await (await startAndWrite(dataDir)).destroy();
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, "kiln.db"), 0o644);
    fs.chmodSync(path.join(dataDir, "secret.key"), 0o644);

    const db = await startAndWrite(dataDir);
    try {
      // Not readable nor listable by others any more; the search bit stays (see the next case).
      expect([dataDir, "kiln.db", "secret.key"].map((f) => modeOf(path.resolve(dataDir, f)))).toEqual([
        "701",
        "600",
        "600",
      ]);
    } finally {
      await db.destroy();
    }
  });

  it("keeps the search bit local sandboxes reach their directories through, so a restart cuts none of them", async () => {
    const dataDir = path.join(root, "shared");
    await (await startAndWrite(dataDir)).destroy();
    // What the local sandbox adapter sets when its sandboxes run as their own uid.
    fs.chmodSync(dataDir, 0o701);
    const db = await startAndWrite(dataDir);
    try {
      expect(modeOf(dataDir)).toBe("701");
    } finally {
      await db.destroy();
    }
  });
});
