import { describe, expect, it } from "vitest";
import { mysqlPoolOptions, parseDatabaseUrl } from "../../../templates/nextjs-app/src/db/config";

// The template reads DATABASE_URL itself (mysql2 rejects most TLS spellings inside a URI), so each spelling the
// platform or an operator may hand it must turn into the right pool options.

describe("template DATABASE_URL parsing", () => {
  it("picks the dialect from the scheme", () => {
    expect(parseDatabaseUrl("mysql://u:p@db.example:4000/app").kind).toBe("mysql");
    expect(parseDatabaseUrl("file:./app.db").kind).toBe("sqlite");
    expect(parseDatabaseUrl("libsql://app.turso.io?authToken=t").kind).toBe("sqlite");
    expect(() => parseDatabaseUrl(undefined)).toThrow(/DATABASE_URL is not set/);
    expect(() => parseDatabaseUrl("postgres://u:p@h/db")).toThrow(/unsupported scheme postgres:/);
  });

  it("decodes credentials, host, port and database", () => {
    const options = mysqlPoolOptions("mysql://app.root:p%40ss%2Fword@gateway.example:4000/my_db");
    expect(options).toMatchObject({
      host: "gateway.example",
      port: 4000,
      user: "app.root",
      password: "p@ss/word",
      database: "my_db",
      ssl: undefined,
    });
    expect(mysqlPoolOptions("mysql://root@127.0.0.1/").database).toBeUndefined();
    expect(mysqlPoolOptions("mysql://root@127.0.0.1/").port).toBe(3306);
  });

  it.each([
    ["?ssl=true", true],
    ["?ssl=1", true],
    ["?sslaccept=strict", true],
    ["?ssl-mode=VERIFY_IDENTITY", true],
    ["?sslmode=verify-full", true],
    ['?ssl={"rejectUnauthorized":true}', true],
    ["?ssl-mode=REQUIRED", false],
    ["?sslaccept=accept_invalid_certs", false],
  ])("turns TLS on for %s (certificate verified: %s)", (query, verified) => {
    const options = mysqlPoolOptions(`mysql://u:p@db.example:4000/app${query}`);
    expect(options.ssl).toEqual({ minVersion: "TLSv1.2", rejectUnauthorized: verified });
  });

  it.each(["", "?ssl-mode=DISABLED", "?ssl=false"])("leaves TLS off for '%s'", (query) => {
    expect(mysqlPoolOptions(`mysql://u:p@db.example:3306/app${query}`).ssl).toBeUndefined();
  });
});
