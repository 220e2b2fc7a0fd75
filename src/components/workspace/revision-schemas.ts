import { z } from "zod";
import type { RevisionDatabase, RevisionTableRows } from "@/server/revisions/revision-database-types";
import type { RevisionDeployment } from "@/server/revisions/revision-deployment-types";
import type { RevisionDto } from "@/server/revisions/revision-types";

// What the workspace reads from the checkpoint APIs, checked in the browser with the server's own types.

export const revisionDatabaseSchema = z.object({
  tables: z.array(
    z.object({
      name: z.string(),
      columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean() })),
    }),
  ),
  migrations: z.array(z.object({ name: z.string(), appliedAt: z.string() })),
}) satisfies z.ZodType<RevisionDatabase>;

export const tableRowsSchema = z.object({
  table: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.array(z.string().nullable())),
  total: z.number(),
  offset: z.number(),
}) satisfies z.ZodType<RevisionTableRows>;

const nullableString = z.string().nullable();

export const revisionDtoSchema = z.object({
  id: z.string(),
  taskId: z.string(),
  ordinal: z.number(),
  kind: z.string(),
  prompt: z.string(),
  agent: z.string(),
  model: z.string(),
  modelProvider: z.string(),
  agentVendor: z.enum(["openai", "anthropic"]),
  status: z.string(),
  step: nullableString,
  error: z.object({ code: nullableString, message: z.string() }).nullable(),
  commitSha: nullableString,
  dbBranchId: nullableString,
  previewUrl: nullableString,
  previewAsleep: z.boolean(),
  deployUrl: nullableString,
  screenshotUrl: nullableString,
  restoredFromRevisionId: nullableString,
  usage: z.object({
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedTokens: z.number(),
    costUsd: z.number(),
    estimated: z.boolean(),
  }),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
}) satisfies z.ZodType<RevisionDto>;

export const revisionDeploymentSchema = z.object({
  id: nullableString,
  state: z.enum(["none", "queued", "building", "ready", "error", "canceled"]),
  url: nullableString,
  error: nullableString,
  redeploying: z.boolean(),
  log: z.object({ lines: z.array(z.string()), truncated: z.boolean() }),
}) satisfies z.ZodType<RevisionDeployment>;
