const MAX_LENGTH = 300;

/** The password and tokens inside a database URL: none of them may appear in a message. */
function secretsOf(databaseUrl: string | undefined): string[] {
  if (!databaseUrl) return [];
  const secrets: string[] = [];
  try {
    const url = new URL(databaseUrl);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    for (const key of ["authToken", "password", "token"]) {
      const value = url.searchParams.get(key);
      if (value) secrets.push(value);
    }
  } catch (error) {
    // An unparseable URL names no password we could find; the URL itself is still scrubbed below.
    if (!(error instanceof TypeError)) throw error;
  }
  return secrets.filter((secret) => secret.length >= 3);
}

/** The most specific text an error carries: Node's connection errors (AggregateError) often have an empty message. */
function rawMessage(error: unknown): string {
  if (error instanceof AggregateError && !error.message && error.errors.length > 0) {
    return rawMessage(error.errors[0]);
  }
  if (error instanceof Error) {
    if (error.message) return error.message;
    return "code" in error && typeof error.code === "string" ? error.code : error.name;
  }
  return String(error);
}

/**
 * A short, single-line description of a database error, safe to print or return from an API: the URL's password
 * and tokens are masked, and so is any `scheme://user:password@` a driver may have echoed.
 */
export function describeDatabaseError(error: unknown, databaseUrl: string | undefined): string {
  let message = rawMessage(error).replace(/\s+/g, " ").trim();
  if (databaseUrl) message = message.split(databaseUrl).join("<DATABASE_URL>");
  for (const secret of secretsOf(databaseUrl)) message = message.split(secret).join("***");
  message = message.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]+@/gi, "$1:***@");
  if (!message) message = "unknown database error";
  return message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH - 1)}…` : message;
}

/** Where the database is, for messages: host, port and database name, never credentials. */
export function describeDatabaseLocation(databaseUrl: string | undefined): string {
  if (!databaseUrl) return "(DATABASE_URL not set)";
  try {
    const url = new URL(databaseUrl);
    if (url.protocol === "file:") return databaseUrl.split("?")[0] ?? databaseUrl;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return "(unparseable DATABASE_URL)";
  }
}
