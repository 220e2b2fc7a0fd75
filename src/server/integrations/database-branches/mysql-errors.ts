import { ProviderError, type ProviderErrorKind, scrub } from "../provider-error";

/**
 * mysql2 failures → ProviderError. mysql2 puts the server's errno on `errno` and its symbolic name on `code`;
 * network failures carry only a Node `code` (ECONNREFUSED…).
 */

const byErrno = new Map<number, { kind: ProviderErrorKind; advice: string }>([
  [1045, { kind: "auth", advice: "Check the user and password of the MySQL admin URL." }],
  [
    1044,
    {
      kind: "forbidden",
      advice:
        "Give the admin user CREATE, DROP, SELECT, INSERT, LOCK TABLES, CREATE VIEW, SHOW VIEW and CREATE USER with GRANT OPTION.",
    },
  ],
  [
    1142,
    {
      kind: "forbidden",
      advice:
        "Give the admin user SELECT, INSERT and LOCK TABLES on the branch databases, or use a root account.",
    },
  ],
  [
    1227,
    {
      kind: "forbidden",
      advice: "The admin user needs the CREATE USER privilege (and GRANT OPTION) to make per-branch users.",
    },
  ],
  [
    1410,
    { kind: "forbidden", advice: "The admin user needs GRANT OPTION to give branch users their database." },
  ],
  [1049, { kind: "not_found", advice: "The database is gone: recreate the root or branch." }],
  [1146, { kind: "not_found", advice: "A table is gone: recreate the root or branch." }],
  [1007, { kind: "conflict", advice: "Delete the existing database or choose another name." }],
  [
    1205,
    { kind: "timeout", advice: "Another session held a lock on the parent's tables; retry when it is idle." },
  ],
  [1213, { kind: "conflict", advice: "A concurrent change deadlocked with this one; retry." }],
  [1040, { kind: "unavailable", advice: "The server has too many connections; retry shortly." }],
]);

const networkCodes = new Map<string, { kind: ProviderErrorKind; advice: string }>([
  [
    "ECONNREFUSED",
    { kind: "unavailable", advice: "Check that the MySQL server is running at the admin URL." },
  ],
  ["ENOTFOUND", { kind: "unavailable", advice: "Check the host name of the MySQL admin URL." }],
  ["EHOSTUNREACH", { kind: "unavailable", advice: "Check the network path to the MySQL server." }],
  ["ECONNRESET", { kind: "unavailable", advice: "The server closed the connection; retry." }],
  ["PROTOCOL_CONNECTION_LOST", { kind: "unavailable", advice: "The server closed the connection; retry." }],
  [
    "ETIMEDOUT",
    { kind: "timeout", advice: "The MySQL server did not answer in time; check it is reachable." },
  ],
  ["PROTOCOL_SEQUENCE_TIMEOUT", { kind: "timeout", advice: "A statement took too long; retry when idle." }],
]);

function fieldOf(error: unknown, name: string): unknown {
  if (typeof error !== "object" || error === null) return undefined;
  const value: unknown = Reflect.get(error, name);
  return value;
}

export function mysqlError(action: string, error: unknown, secrets: ReadonlyArray<string | undefined>) {
  if (error instanceof ProviderError) return error;
  const errno = fieldOf(error, "errno");
  const code = fieldOf(error, "code");
  const known =
    (typeof errno === "number" ? byErrno.get(errno) : undefined) ??
    (typeof code === "string" ? networkCodes.get(code) : undefined);
  const detail = scrub(error instanceof Error ? error.message : String(error), secrets);
  const label = typeof code === "string" ? ` (${code})` : "";
  return new ProviderError(
    "mysql",
    known?.kind ?? "internal",
    `MySQL: could not ${action}: ${detail}${label}.${known ? ` ${known.advice}` : ""}`,
    { cause: error },
  );
}

/** The server's errno of a mysql2 error, if any. */
export function errnoOf(error: unknown): number | undefined {
  const errno = fieldOf(error, "errno");
  return typeof errno === "number" ? errno : undefined;
}
