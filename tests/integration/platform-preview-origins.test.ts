import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "@/server/config/env-schema";
import { SECRET_KEY_FILE } from "@/server/crypto/secret-key";
import { newId } from "@/server/ids";
import { wirePlatform } from "@/server/platform/wire-platform";
import { parsePreviewHost, publicPreviewUrl } from "@/server/previews/preview-origin";
import { previewOriginsFromEnv } from "@/server/previews/preview-origins-from-env";
import { type TestDatabase, testDatabases } from "../helpers/databases";

// The composition root's preview origins: what pages link a local preview at, and what Kiln's HTTP front
// (scripts/lib/next-server.ts, built from the same environment) must recognise as that preview.

describe.each(testDatabases)("the platform's preview origins on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    t = await factory.open({ migrate: false });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-origins-"));
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("gives a bare `next start` (no secret key yet) one, and links previews where the front serves them", () => {
    const env = parseEnv({
      KILN_DATA_DIR: dataDir,
      KILN_PUBLIC_URL: "http://localhost:3100/",
      KILN_PREVIEW_DOMAIN: "localhost",
    });
    const platform = wirePlatform(env, t.db);
    const keyFile = path.join(dataDir, SECRET_KEY_FILE);
    expect(fs.existsSync(keyFile)).toBe(false);

    const revisionId = newId("revision");
    const link = publicPreviewUrl(
      platform.previewOrigins,
      { kind: "preview", revisionId },
      "http://127.0.0.1:41234",
    );
    expect(fs.existsSync(keyFile)).toBe(true);
    expect(link).toMatch(/^http:\/\/p-[0-9a-f]{32}\.localhost:3100\/$/);
    expect(platform.publicUrl).toBe("http://localhost:3100");

    const front = previewOriginsFromEnv(env);
    expect(parsePreviewHost(front, new URL(link ?? "").host)).toEqual({ kind: "preview", revisionId });
  });
});
