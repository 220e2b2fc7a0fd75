import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { envSchema, parseEnv } from "@/server/config/env-schema";
import {
  decodeSecretKey,
  ensureSecretKeyFile,
  loadSecretKey,
  SECRET_KEY_FILE,
} from "@/server/crypto/secret-key";
import { mysqlPoolOptions } from "@/server/db/connection";
import { AppError } from "@/server/errors";

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("parseEnv", () => {
  it("fills in defaults for an empty environment", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      KILN_DATA_DIR: ".data",
      KILN_PUBLIC_URL: "http://localhost:3000",
      KILN_SESSION_TTL_HOURS: 168,
      KILN_TRUSTED_PROXIES: [],
      KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: 5,
      KILN_LOGIN_MAX_ATTEMPTS_PER_IP: 30,
      KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT_TOTAL: 100,
      KILN_LOGIN_WINDOW_MINUTES: 15,
      GITHUB_API_URL: "https://api.github.com",
      VERCEL_API_URL: "https://api.vercel.com",
      TIDB_CLOUD_API_URL: "https://serverless.tidbapi.com/v1beta1",
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.KILN_SECRET_KEY).toBeUndefined();
    expect(env.OPENAI_BASE_URL).toBeUndefined();
    expect(env.dataDir).toBe(path.resolve(".data"));
  });

  it("reads values: numbers, flags, URLs without trailing slashes, blank secrets as unset", () => {
    const env = parseEnv({
      KILN_DATA_DIR: "/var/lib/kiln",
      DATABASE_URL: "mysql://kiln:pw@db:3306/kiln",
      KILN_SESSION_TTL_HOURS: "12",
      KILN_TRUSTED_PROXIES: " 127.0.0.1, 10.0.0.0/8 ,fd00::/8",
      KILN_PUBLIC_URL: "https://kiln.example.com/",
      OPENAI_BASE_URL: "https://gateway.example.com/v1//",
      GITHUB_TOKEN: "   ",
      ANTHROPIC_API_KEY: "",
    });
    expect(env.dataDir).toBe("/var/lib/kiln");
    expect(env.DATABASE_URL).toBe("mysql://kiln:pw@db:3306/kiln");
    expect(env.KILN_SESSION_TTL_HOURS).toBe(12);
    expect(env.KILN_TRUSTED_PROXIES).toEqual(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
    expect(env.KILN_PUBLIC_URL).toBe("https://kiln.example.com");
    expect(env.OPENAI_BASE_URL).toBe("https://gateway.example.com/v1");
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
  });

  it("accepts the documented DATABASE_URL schemes", () => {
    for (const url of ["mysql://root@127.0.0.1:3306/kiln", "file:.data/kiln.db", "libsql://kiln.turso.io"]) {
      expect(parseEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
  });

  it("rejects a DATABASE_URL with another scheme in a readable message that does not echo the URL", () => {
    const error = thrownBy(() => parseEnv({ DATABASE_URL: "postgres://kiln:hunter2@db:5432/kiln" }));
    if (!(error instanceof Error)) throw new Error("expected an Error");
    expect(error.message).toContain("Invalid environment configuration");
    expect(error.message).toContain(
      "DATABASE_URL: DATABASE_URL must start with mysql:// (MySQL, MariaDB, TiDB) or file: (embedded libSQL)",
    );
    expect(error.message).toContain("See .env.example.");
    expect(error.message).not.toContain("hunter2");
  });

  it("names every wrong variable, one per line", () => {
    const error = thrownBy(() =>
      parseEnv({
        KILN_SESSION_TTL_HOURS: "soon",
        KILN_TRUSTED_PROXIES: "my-proxy",
        GITHUB_API_URL: "ftp://x",
      }),
    );
    if (!(error instanceof Error)) throw new Error("expected an Error");
    const lines = error.message.split("\n");
    expect(lines.some((line) => line.startsWith("  - KILN_SESSION_TTL_HOURS: "))).toBe(true);
    expect(lines.some((line) => line.startsWith("  - KILN_TRUSTED_PROXIES: "))).toBe(true);
    expect(lines.some((line) => line.startsWith("  - GITHUB_API_URL: "))).toBe(true);
  });

  it("refuses the old KILN_TRUST_PROXY=true, whose meaning (believe any X-Forwarded-For) let clients pick an address", () => {
    const error = thrownBy(() => parseEnv({ KILN_TRUST_PROXY: "true" }));
    if (!(error instanceof Error)) throw new Error("expected an Error");
    expect(error.message).toContain("KILN_TRUST_PROXY: replaced by KILN_TRUSTED_PROXIES");
    expect(() => parseEnv({ KILN_TRUST_PROXY: "false" })).not.toThrow();
  });

  // `KEY=` in .env, or `KEY: ${KEY}` in docker compose with the host variable unset, hands the app an empty
  // string. The secrets, URLs and flags treat that as "not set"; every other key must do the same.
  it.each(Object.keys(envSchema.shape))("treats an empty %s as unset", (key) => {
    expect(() => parseEnv({ [key]: "" })).not.toThrow();
    expect(parseEnv({ [key]: "" })).toEqual(parseEnv({}));
  });
});

describe("secret key", () => {
  const dirs: string[] = [];
  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-key-"));
    dirs.push(dir);
    return dir;
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("decodes 32 bytes given as hex or base64, ignoring surrounding whitespace", () => {
    const bytes = randomBytes(32);
    expect(decodeSecretKey(bytes.toString("hex"))).toEqual(bytes);
    expect(decodeSecretKey(bytes.toString("hex").toUpperCase())).toEqual(bytes);
    expect(decodeSecretKey(`${bytes.toString("base64")}\n`)).toEqual(bytes);
    expect(decodeSecretKey(`  ${bytes.toString("base64")}  `)).toEqual(bytes);
  });

  it.each([
    ["16 bytes of base64", randomBytes(16).toString("base64")],
    ["33 bytes of base64", randomBytes(33).toString("base64")],
    ["31 bytes of hex", randomBytes(31).toString("hex")],
    ["a passphrase", "correct horse battery staple"],
    ["an empty string", ""],
  ])("refuses %s with config:secret_key", (_label, text) => {
    const error = thrownBy(() => decodeSecretKey(text));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "config:secret_key" });
    expect(String(error)).toContain("must be 32 bytes");
  });

  it("creates a 0600 key file once and never overwrites it", () => {
    const dataDir = path.join(tempDir(), "nested", "data");
    const created = ensureSecretKeyFile(undefined, dataDir);
    const file = path.join(dataDir, SECRET_KEY_FILE);
    expect(created).toBe(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const first = fs.readFileSync(file, "utf8");
    expect(decodeSecretKey(first)).toHaveLength(32);

    expect(ensureSecretKeyFile(undefined, dataDir)).toBeNull();
    expect(fs.readFileSync(file, "utf8")).toBe(first);
    expect(loadSecretKey(undefined, dataDir)).toEqual(decodeSecretKey(first));
  });

  it("leaves an existing key file alone, whatever it holds", () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, SECRET_KEY_FILE);
    fs.writeFileSync(file, "operator-provided\n");
    expect(ensureSecretKeyFile(undefined, dataDir)).toBeNull();
    expect(fs.readFileSync(file, "utf8")).toBe("operator-provided\n");
  });

  it("writes no file when KILN_SECRET_KEY is set, and validates it instead", () => {
    const dataDir = tempDir();
    const fromEnv = randomBytes(32).toString("base64");
    expect(ensureSecretKeyFile(fromEnv, dataDir)).toBeNull();
    expect(fs.existsSync(path.join(dataDir, SECRET_KEY_FILE))).toBe(false);
    expect(loadSecretKey(fromEnv, dataDir)).toEqual(Buffer.from(fromEnv, "base64"));
    expect(thrownBy(() => ensureSecretKeyFile("too-short", dataDir))).toMatchObject({
      code: "config:secret_key",
    });
  });

  it("fails with config:secret_key when there is neither a variable nor a file", () => {
    expect(thrownBy(() => loadSecretKey(undefined, tempDir()))).toMatchObject({ code: "config:secret_key" });
  });
});

describe("mysqlPoolOptions", () => {
  it.each([
    "ssl=true",
    "ssl=1",
    "sslaccept=strict",
    "ssl-mode=VERIFY_IDENTITY",
    "ssl-mode=REQUIRED",
    "sslmode=require",
    "sslmode=verify-full",
  ])("turns verified TLS on for ?%s", (query) => {
    const options = mysqlPoolOptions(`mysql://kiln:pw@gateway01.tidbcloud.com:4000/kiln?${query}`);
    expect(options.ssl).toEqual({ minVersion: "TLSv1.2", rejectUnauthorized: true });
  });

  it.each(["", "?ssl=false", "?sslmode=disable", "?ssl-mode=DISABLED", "?sslaccept=accept_invalid_certs"])(
    "leaves TLS off for '%s'",
    (query) => {
      expect(mysqlPoolOptions(`mysql://kiln:pw@127.0.0.1:3306/kiln${query}`).ssl).toBeUndefined();
    },
  );

  it("decodes user, password and database from the URL", () => {
    const options = mysqlPoolOptions("mysql://kiln%2Eadmin:p%40ss%3Aw%2Frd%25@db.internal:4000/my%2Ddb");
    expect(options).toMatchObject({
      host: "db.internal",
      port: 4000,
      user: "kiln.admin",
      password: "p@ss:w/rd%",
      database: "my-db",
    });
  });

  it("defaults the port and leaves the database unset when the URL names none", () => {
    const options = mysqlPoolOptions("mysql://root@localhost");
    expect(options.port).toBe(3306);
    expect(options.database).toBeUndefined();
    expect(options.password).toBe("");
  });
});

describe(".env.example", () => {
  const file = path.resolve(".env.example");
  /** `KEY=…` or `# KEY=…` at the start of a line. */
  const assignment = /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/;

  function readLines(): string[] {
    if (!fs.existsSync(file)) throw new Error(`${file} does not exist: it must document every variable`);
    return fs.readFileSync(file, "utf8").split(/\r?\n/);
  }

  it("documents every variable of envSchema, under a comment line", () => {
    const lines = readLines();
    const problems: string[] = [];
    for (const key of Object.keys(envSchema.shape)) {
      const index = lines.findIndex((line) => assignment.exec(line)?.[1] === key);
      if (index < 0) {
        problems.push(`${key}: missing (write "${key}=" or "# ${key}=" at the start of a line)`);
        continue;
      }
      // Keys may share one comment ("# Sign-in rate limits…" above three keys): step over the neighbouring
      // assignments, then the line above the group must be a comment that is not itself an assignment.
      let above = index - 1;
      while (above >= 0 && assignment.test(lines[above] ?? "")) above--;
      if (!(lines[above] ?? "").startsWith("#")) {
        problems.push(`${key}: no # comment line above it`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("copied as it is, parses (a .env made from it boots)", () => {
    const values: Record<string, string> = {};
    for (const line of readLines()) {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (match?.[1]) values[match[1]] = (match[2] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
    }
    expect(Object.keys(values).length).toBeGreaterThan(0);
    expect(() => parseEnv(values)).not.toThrow();
  });
});
