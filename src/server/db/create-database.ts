import { createConnection } from "mysql2/promise";
import { type DatabaseTarget, mysqlPoolOptions } from "./connection";

/**
 * Creates the control-plane database when the server allows it (MySQL, MariaDB, self-hosted TiDB; a TiDB Cloud
 * user may lack the privilege, in which case the error says so). The embedded libSQL file is created on open.
 */
export async function createDatabaseIfMissing(
  target: DatabaseTarget,
): Promise<"created-or-present" | "embedded"> {
  if (target.dialect !== "mysql") return "embedded";
  const { database, ...options } = mysqlPoolOptions(target.url);
  if (!database) throw new Error("DATABASE_URL names no database: add one, e.g. mysql://user@host:3306/kiln");
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) {
    throw new Error(`Database name "${database}" must be 1–64 letters, digits, _, $ or -`);
  }
  const connection = await createConnection({
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    ssl: options.ssl,
  });
  try {
    // The name was checked against a strict pattern above; identifiers cannot be bound as parameters.
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
  return "created-or-present";
}
