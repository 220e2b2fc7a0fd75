import type { Insertable, Selectable, Updateable } from "kysely";

/*
 * The database schema as TypeScript types: one interface per table, listed in `Database`.
 * Keep it in step with migrations/: when a migration adds a table or a column, add it here in the same change.
 *
 * Column conventions that behave the same on MySQL/TiDB and SQLite:
 * - `id`: integer auto-increment primary key → `Generated<number>`
 * - text: `varchar(n)` (indexable) → `string`; long text: `text` → `string`
 * - flags: `integer` 0/1 → `number`
 * - timestamps: `varchar(32)` holding `new Date().toISOString()` → `string` (sorts correctly as text)
 * - nullable columns → `T | null`; columns with a database default → `Generated<T>`
 */

/** Small key/value settings for the app itself (an example; keep it, use it, or drop it in a migration). */
export interface AppMetaTable {
  name: string;
  value: string;
  updated_at: string;
}

export interface Database {
  app_meta: AppMetaTable;
}

export type AppMeta = Selectable<AppMetaTable>;
export type NewAppMeta = Insertable<AppMetaTable>;
export type AppMetaUpdate = Updateable<AppMetaTable>;
