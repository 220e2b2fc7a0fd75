// Client-safe: a revision as entry points and the browser see it (built by revision-dto.ts).

export type RevisionDto = {
  id: string;
  taskId: string;
  ordinal: number;
  kind: string;
  prompt: string;
  agent: string;
  model: string | null;
  status: string;
  step: string | null;
  error: { code: string | null; message: string } | null;
  commitSha: string | null;
  dbBranchId: string | null;
  previewUrl: string | null;
  /** The preview's sandbox was stopped for idling: the workspace offers to wake it (POST …/wake). */
  previewAsleep: boolean;
  deployUrl: string | null;
  screenshotUrl: string | null;
  restoredFromRevisionId: string | null;
  usage: { inputTokens: number; outputTokens: number; cachedTokens: number; costUsd: number };
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
};
