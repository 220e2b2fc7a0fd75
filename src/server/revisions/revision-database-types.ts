import type { BranchInspection } from "@/server/integrations/database-branches/port";

// Client-safe: what the DATABASE tab receives.

export type RevisionDatabase = BranchInspection;
