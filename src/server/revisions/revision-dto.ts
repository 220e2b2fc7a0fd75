import { providerOfRun } from "@/agents/models";
import { agentDefinition, storedAgentKind } from "@/agents/registry";
import type { Revision } from "@/server/db/schema";
import { type PreviewOrigins, publicPreviewUrl } from "@/server/previews/preview-origin";
import type { RevisionDto } from "./revision-types";

/**
 * `sandbox_stopped_at` comes from the revision queries' join; rows without it never read as asleep. `origins` are
 * the platform's preview origins (`platform.previewOrigins`), where local previews are linked.
 */
export function toRevisionDto(
  row: Revision & { sandbox_stopped_at?: number | null },
  origins: PreviewOrigins,
): RevisionDto {
  return {
    id: row.id,
    taskId: row.task_id,
    ordinal: row.ordinal,
    kind: row.kind,
    prompt: row.prompt,
    agent: row.agent,
    // The model it ran on: its own, else its agent's default (older rows may name none).
    model: row.model ?? agentDefinition(storedAgentKind(row.agent)).defaultModel,
    modelProvider: providerOfRun({ agent: row.agent, modelProvider: row.model_provider }, null),
    agentVendor: agentDefinition(storedAgentKind(row.agent)).vendor,
    status: row.status,
    step: row.step,
    error: row.error_message ? { code: row.error_code, message: row.error_message } : null,
    commitSha: row.commit_sha,
    dbBranchId: row.db_branch_id,
    // Local previews are linked on their own origin (the preview proxy), never at the sandbox's loopback port.
    previewUrl: publicPreviewUrl(origins, { kind: "preview", revisionId: row.id }, row.preview_url),
    previewAsleep:
      row.status === "finished" &&
      row.preview_url !== null &&
      row.sandbox_stopped_at !== null &&
      row.sandbox_stopped_at !== undefined,
    deployUrl: publicPreviewUrl(origins, { kind: "deploy", revisionId: row.id }, row.deploy_url),
    screenshotUrl: row.screenshot_key ? `/api/v1/revisions/${row.id}/screenshot` : null,
    restoredFromRevisionId: row.restored_from_revision_id,
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      cachedTokens: Number(row.cached_tokens),
      costUsd: Number(row.cost_usd_micros) / 1_000_000,
      estimated: Number(row.usage_estimated) === 1,
    },
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
