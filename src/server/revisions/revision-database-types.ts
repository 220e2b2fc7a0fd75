import type { BranchInspection, TableRows } from "@/server/integrations/database-branches/port";

// Client-safe: what the DATABASE tab receives.

export type RevisionDatabase = BranchInspection;

/** One page of a table's rows, for the DATABASE tab's row browser. */
export type RevisionTableRows = TableRows;
