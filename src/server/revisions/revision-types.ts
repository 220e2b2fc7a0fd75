// Client-safe: a revision as entry points and the browser see it (built by revision-dto.ts).

export type RevisionDto = {
  id: string;
  taskId: string;
  ordinal: number;
  kind: string;
  prompt: string;
  agent: string;
  /** The model the checkpoint runs on. */
  model: string;
  /** Who serves it: "openai", "anthropic" or "openai-compatible". */
  modelProvider: string;
  /** The vendor whose protocol the agent's CLI speaks (what the model picker offers besides a compatible server). */
  agentVendor: "openai" | "anthropic";
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
  /** `estimated`: some calls reported no usage, and Kiln counted ~4 characters a token. */
  usage: {
    inputTokens: number;
    outputTokens: number;
    cachedTokens: number;
    costUsd: number;
    estimated: boolean;
  };
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
};
