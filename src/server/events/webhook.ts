import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { CredentialContext } from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { findSandboxWithOwner, type SandboxWithOwner } from "@/server/db/queries/events";
import { AppError } from "@/server/errors";
import { toFieldErrors } from "@/server/http/parse-input";
import { type IngestResult, ingestRunnerBatch } from "./append";
import { knownSecretsFor } from "./known-secrets";
import { createRedactor } from "./redact";
import { type EventBatch, eventBatchSchema } from "./schema";
import {
  isValidSignature,
  isWithinTolerance,
  parseSignatureHeader,
  parseTimestampHeader,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "./sign";
import { decryptWebhookSecret } from "./webhook-secret";

// The sandbox webhook: the only way a runner's events (and so a revision's progress) reach the platform.
// Contract: docs/pipeline.md "Webhook".

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** A stopped sandbox's last batches may still be in flight (retries with backoff); after this they are refused. */
export const STOPPED_SANDBOX_GRACE_MS = 10 * 60_000;

type HeaderReader = { get(name: string): string | null };

export type SandboxWebhookRequest = { sandboxId: string; headers: HeaderReader; rawBody: string };

export type SandboxWebhookDeps = {
  db: Database;
  /** The secret key (decrypts webhook secrets and credentials) and the platform's default credentials. */
  credentials: CredentialContext;
  /** The platform's other secrets from the environment (see `platformSecretsFromEnv`). */
  platformSecrets: readonly string[];
  now?: () => number;
  /** Called after a batch is stored: where the pipeline advances the revision from the runner's events. */
  onIngested?: (result: IngestResult, sandbox: SandboxWithOwner) => Promise<void>;
};

/**
 * Reads a request body as text, refusing more than `maxBytes` without buffering it all: the declared length is
 * checked first, then the bytes actually received.
 */
export async function readBodyWithLimit(
  request: Request,
  maxBytes = MAX_WEBHOOK_BODY_BYTES,
): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new AppError("payload_too_large:body");
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AppError("payload_too_large:body");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isAcceptingEvents(sandbox: SandboxWithOwner, now: number): boolean {
  const stoppedAt = sandbox.stopped_at ?? (sandbox.status === "stopped" ? sandbox.updated_at : null);
  return stoppedAt === null || now - Number(stoppedAt) <= STOPPED_SANDBOX_GRACE_MS;
}

function parseBatch(rawBody: string): EventBatch {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch (error) {
    throw new AppError("bad_request:json", undefined, { cause: error });
  }
  const result = eventBatchSchema.safeParse(json);
  if (!result.success) {
    const { message, fields } = toFieldErrors(result.error);
    throw new AppError("bad_request:input", message, { fields });
  }
  return result.data;
}

// Distinct messages so a runner's operator can tell a wrong secret from a skewed clock; the code is the one every
// unauthenticated request gets.
const missingSignature = () =>
  new AppError(
    "unauthorized:token",
    `Missing or malformed ${SIGNATURE_HEADER} or ${TIMESTAMP_HEADER} header.`,
  );
const badSignature = () => new AppError("unauthorized:token", "The webhook signature does not match.");
const staleTimestamp = () =>
  new AppError(
    "unauthorized:token",
    `The ${TIMESTAMP_HEADER} is more than 5 minutes away from the server's clock.`,
  );
const unknownSandbox = () => new AppError("not_found:route", "Not found.");

/**
 * Verifies and stores one signed batch. Order: signature headers present (401) → body size (413) → sandbox
 * (404, also for one stopped past its grace period) → signature (401) → timestamp window (401) → JSON (400) →
 * schema (400) → redact and store. Answers how many events were new and how many were already stored.
 */
export async function handleSandboxWebhook(
  request: SandboxWebhookRequest,
  deps: SandboxWebhookDeps,
): Promise<{ accepted: number; duplicates: number }> {
  const now = deps.now?.() ?? Date.now();
  const signatures = parseSignatureHeader(request.headers.get(SIGNATURE_HEADER));
  const timestamp = parseTimestampHeader(request.headers.get(TIMESTAMP_HEADER));
  if (!signatures || timestamp === null) throw missingSignature();
  if (Buffer.byteLength(request.rawBody, "utf8") > MAX_WEBHOOK_BODY_BYTES) {
    throw new AppError("payload_too_large:body");
  }

  const sandbox = await findSandboxWithOwner(deps.db, request.sandboxId);
  if (!sandbox || !isAcceptingEvents(sandbox, now)) throw unknownSandbox();
  const secret = decryptWebhookSecret(deps.credentials.key, sandbox.id, sandbox.webhook_secret_ciphertext);
  if (!isValidSignature(secret, timestamp, request.rawBody, signatures)) throw badSignature();
  if (!isWithinTolerance(timestamp, now)) throw staleTimestamp();

  const batch = parseBatch(request.rawBody);
  const operatorSecrets = await knownSecretsFor(deps.db, deps.credentials, sandbox.owner_id);
  // The app's secret variables: its dev server, migrations and build hold them, and may print them.
  const { secrets: appSecrets } = await appEnvForRun(deps.db, deps.credentials.key, sandbox.project_id);
  const redactor = createRedactor([...operatorSecrets, ...appSecrets, ...deps.platformSecrets, secret]);
  const result = await ingestRunnerBatch(deps.db, { sandbox, batch, redactor, now });
  await deps.onIngested?.(result, sandbox);
  return { accepted: result.accepted, duplicates: result.duplicates };
}
