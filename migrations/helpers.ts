import { type ColumnDataType, type Kysely, MysqlAdapter, type RawBuilder, sql } from "kysely";

// Migrations run against both MySQL-family servers and embedded libSQL. These helpers hold the few
// places where the two need different column types; everything else is plain schema builder.

export type AnyDb = Kysely<unknown>;

export function isMysql(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/** Bodies that can outgrow MySQL's 64 KB `text` (event payloads, plans, encrypted blobs). */
export function longText(db: AnyDb): ColumnDataType | RawBuilder<unknown> {
  return isMysql(db) ? sql`mediumtext` : "text";
}

/** 64-bit auto-increment key: SQLite only auto-increments a column declared exactly `integer`. */
export function bigSerial(db: AnyDb): ColumnDataType {
  return isMysql(db) ? "bigint" : "integer";
}

/** Ids are generated in the app ("prj_…"), so both dialects agree on them without RETURNING. */
export const ID = "varchar(40)" as const;
/** Timestamps are epoch milliseconds: one representation on every dialect, no driver time zones. */
export const TIME = "bigint" as const;
