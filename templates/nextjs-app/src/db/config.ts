import type { PoolOptions } from "mysql2";

/**
 * Which database `DATABASE_URL` names. The URL alone decides:
 * - `mysql://user:pass@host:port/db` → MySQL, MariaDB or TiDB (TLS when the URL asks for it)
 * - `file:./local.db` or `libsql://…` → SQLite through libSQL (a local file, or a remote libSQL server)
 */
export type DatabaseConfig =
  | { kind: "mysql"; pool: PoolOptions; label: string }
  | { kind: "sqlite"; url: string; label: string };

export type DatabaseKind = DatabaseConfig["kind"];

export class DatabaseConfigError extends Error {
  override name = "DatabaseConfigError";
}

export function parseDatabaseUrl(url: string | undefined): DatabaseConfig {
  const value = url?.trim();
  if (!value) {
    throw new DatabaseConfigError(
      "DATABASE_URL is not set (expected a mysql:// URL for MySQL, MariaDB or TiDB, or file:./app.db for SQLite)",
    );
  }
  if (value.startsWith("mysql://")) return { kind: "mysql", pool: mysqlPoolOptions(value), label: "MySQL" };
  if (value.startsWith("file:") || value.startsWith("libsql://")) {
    return { kind: "sqlite", url: value, label: "SQLite (libSQL)" };
  }
  const scheme = value.match(/^[a-z][a-z0-9+.-]*:/i)?.[0] ?? "(none)";
  throw new DatabaseConfigError(
    `DATABASE_URL has an unsupported scheme ${scheme} (expected mysql://, file: or libsql://)`,
  );
}

type TlsMode = "off" | "encrypt" | "verify";

/**
 * The TLS spellings in use across MySQL clients, TiDB Cloud, PlanetScale and Prisma. mysql2 itself rejects most
 * of them inside a URI (e.g. `?ssl=true`), which is why the URL is parsed here into pool options.
 * `ssl-mode=REQUIRED` and `sslaccept=accept_invalid_certs` encrypt without checking the certificate, as the
 * MySQL client documents; every other way of asking for TLS also verifies the server's certificate and name.
 */
function tlsMode(params: URLSearchParams): TlsMode {
  const sslMode = (params.get("ssl-mode") ?? params.get("sslmode") ?? "").toLowerCase();
  if (["verify_identity", "verify-full", "verify_ca", "verify-ca"].includes(sslMode)) return "verify";
  if (["required", "require"].includes(sslMode)) return "encrypt";
  const sslAccept = (params.get("sslaccept") ?? "").toLowerCase();
  if (sslAccept === "strict") return "verify";
  if (sslAccept === "accept_invalid_certs") return "encrypt";
  const ssl = (params.get("ssl") ?? "").trim().toLowerCase();
  if (["true", "1", "on", "required"].includes(ssl)) return "verify";
  // mysql2's own JSON form: ssl={"rejectUnauthorized":true}
  if (ssl.startsWith("{")) return /"rejectunauthorized"\s*:\s*false/.test(ssl) ? "encrypt" : "verify";
  return "off";
}

export function mysqlPoolOptions(url: string): PoolOptions {
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const tls = tlsMode(params);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  const connectionLimit = Number(params.get("connectionLimit") ?? params.get("connection_limit") ?? 10);
  return {
    host: decodeURIComponent(parsed.hostname),
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: database || undefined,
    ssl: tls === "off" ? undefined : { minVersion: "TLSv1.2", rejectUnauthorized: tls === "verify" },
    connectionLimit: Number.isInteger(connectionLimit) && connectionLimit > 0 ? connectionLimit : 10,
    connectTimeout: 10_000,
    // Dates and numbers come back the same way on every server, in UTC.
    timezone: "Z",
    decimalNumbers: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: "utf8mb4",
  };
}
