import { decryptSecret, encryptSecret } from "@/server/crypto/encryption";
import type { Executor } from "@/server/db/connection";
import {
  deleteCredentialOfUser,
  findCredentialOfUser,
  listCredentialsOfUser,
  upsertCredential,
} from "@/server/db/queries/credentials";
import type { Credential } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { newId } from "@/server/ids";
import type { CredentialStatus } from "./credential-types";
import {
  type CredentialInput,
  type CredentialKind,
  type CredentialPayload,
  credentialKinds,
  credentialLabels,
  credentialPayloadSchemas,
  primarySecretField,
} from "./kinds";
import { checkModelBaseUrl } from "./model-url-policy";
import type { PlatformDefaults, VendorEndpoints } from "./platform-defaults";
import type { VerifyCredential, VerifyResult } from "./verify-result";

export type CredentialContext = {
  key: Buffer;
  endpoints: VendorEndpoints;
  platformDefaults: PlatformDefaults;
  /** The vendor's check before a save: handed in, since the checks live with the adapters that use the vendor. */
  verify: VerifyCredential;
};

/** Binds a ciphertext to its owner and kind (AES-GCM associated data). */
function aad(userId: string, kind: CredentialKind): string {
  return `credential:${userId}:${kind}`;
}

function lastFour(payload: Record<string, unknown>, kind: CredentialKind): string {
  const value = payload[primarySecretField[kind]];
  return typeof value === "string" ? value.slice(-4) : "";
}

/** Non-secret settings that may be shown back (team and project ids, region, base URL). */
function publicFields(payload: Record<string, unknown>, kind: CredentialKind): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [field, value] of Object.entries(payload)) {
    const secret = field === primarySecretField[kind] || /token|key|secret|password/i.test(field);
    if (!secret && typeof value === "string") shown[field] = value;
  }
  return shown;
}

export type SaveCredentialResult = { kind: CredentialKind; verification: VerifyResult };

/**
 * Verifies a credential with its vendor, then stores it encrypted. A vendor that says "no" stops the save with
 * its reason; a vendor that cannot be reached (offline box, outage) lets it through marked unverified.
 */
export async function saveCredential(
  db: Executor,
  ctx: CredentialContext,
  userId: string,
  input: CredentialInput,
  now = Date.now(),
): Promise<SaveCredentialResult> {
  // Before anything connects to it: the verification below would already be a request to that host.
  if (
    (input.kind === "openai" || input.kind === "anthropic" || input.kind === "openai-compatible") &&
    input.baseUrl
  ) {
    const check = await checkModelBaseUrl(input.baseUrl, {
      allowPrivate: ctx.endpoints.allowPrivateModelUrls,
    });
    if (!check.ok) {
      const message = `This base URL is not allowed: ${check.reason}.`;
      throw new AppError("bad_request:input", message, { fields: { baseUrl: [message] } });
    }
  }
  const verification = await ctx.verify(input);
  if (verification.status === "rejected") {
    throw new AppError("rejected:credential", verification.message);
  }
  const { kind, ...payload } = input;
  await upsertCredential(
    db,
    newId("credential"),
    {
      user_id: userId,
      kind,
      ciphertext: encryptSecret(ctx.key, JSON.stringify(payload), aad(userId, kind)),
      hint: lastFour(payload, kind),
      verify_status: verification.status === "verified" ? "verified" : "unverified",
      verify_message: (verification.status === "verified" ? verification.detail : verification.message).slice(
        0,
        500,
      ),
      verified_at: verification.status === "verified" ? now : null,
    },
    now,
  );
  return { kind, verification };
}

function decryptPayload<K extends CredentialKind>(
  key: Buffer,
  row: Credential,
  kind: K,
): CredentialPayload<K> {
  const json: unknown = JSON.parse(decryptSecret(key, row.ciphertext, aad(row.user_id, kind)));
  return credentialPayloadSchemas[kind].parse(json) as CredentialPayload<K>;
}

export async function listCredentialStatuses(
  db: Executor,
  ctx: CredentialContext,
  userId: string,
): Promise<CredentialStatus[]> {
  const rows = await listCredentialsOfUser(db, userId);
  return credentialKinds.map((kind) => {
    const row = rows.find((r) => r.kind === kind);
    const platform = ctx.platformDefaults[kind];
    if (row) {
      const payload = decryptPayload(ctx.key, row, kind);
      return {
        kind,
        label: credentialLabels[kind],
        source: "operator",
        hint: row.hint,
        fields: publicFields(payload, kind),
        verifyStatus: row.verify_status === "verified" ? "verified" : "unverified",
        verifyMessage: row.verify_message,
        updatedAt: row.updated_at,
        platformDefaultAvailable: platform !== undefined,
      };
    }
    return {
      kind,
      label: credentialLabels[kind],
      source: platform ? "platform" : "none",
      hint: null,
      fields: platform ? publicFields(platform, kind) : {},
      verifyStatus: null,
      verifyMessage: null,
      updatedAt: null,
      platformDefaultAvailable: platform !== undefined,
    };
  });
}

export async function deleteCredential(db: Executor, userId: string, kind: CredentialKind): Promise<void> {
  const deleted = await deleteCredentialOfUser(db, userId, kind);
  if (!deleted) throw new AppError("not_found:credential");
}

/**
 * Whether Kiln may connect to a resolved model credential's base URL without checking it: the platform's own
 * (from the environment), or any when the platform allows private model hosts. An operator's must be checked
 * before each connection (`checkModelBaseUrl`), not only when saved.
 */
export function isTrustedModelUrl(
  ctx: CredentialContext,
  resolved: { source: "operator" | "platform"; payload: { baseUrl?: string } },
): boolean {
  return resolved.source === "platform" || !resolved.payload.baseUrl || ctx.endpoints.allowPrivateModelUrls;
}

/** The credential in force for an operator: their own, else the platform default, else undefined. */
export async function resolveCredential<K extends CredentialKind>(
  db: Executor,
  ctx: CredentialContext,
  userId: string,
  kind: K,
): Promise<{ source: "operator" | "platform"; payload: CredentialPayload<K> } | undefined> {
  const row = await findCredentialOfUser(db, userId, kind);
  if (row) return { source: "operator", payload: decryptPayload(ctx.key, row, kind) };
  const platform = ctx.platformDefaults[kind];
  return platform ? { source: "platform", payload: platform as CredentialPayload<K> } : undefined;
}

/** Which kinds this operator can use at all (their own or the platform's), without decrypting anything. */
export async function availableCredentialKinds(
  db: Executor,
  ctx: CredentialContext,
  userId: string,
): Promise<Set<CredentialKind>> {
  const rows = await listCredentialsOfUser(db, userId);
  return new Set(
    credentialKinds.filter((kind) => rows.some((r) => r.kind === kind) || ctx.platformDefaults[kind]),
  );
}
