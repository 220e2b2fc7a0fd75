import { type Database, type DatabaseTarget, openDatabase } from "./connection";

// One pool per server process, shared by request handlers and background work (the reconciler). Kept on globalThis
// so Next.js dev reloads and separately bundled entry points (instrumentation) reuse it: a second libSQL pool would
// bypass the connection lock that keeps the event loop free.
const holder = globalThis as typeof globalThis & { __kilnDb?: Promise<Database> };

export function sharedDatabase(target: DatabaseTarget): Promise<Database> {
  holder.__kilnDb ??= openDatabase(target);
  return holder.__kilnDb;
}
