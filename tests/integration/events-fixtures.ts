import { randomBytes } from "node:crypto";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import type { CredentialInput } from "@/server/credentials/kinds";
import type { Database } from "@/server/db/connection";
import type { WireEvent } from "@/server/events/schema";
import { encryptWebhookSecret, newWebhookSecret } from "@/server/events/webhook-secret";
import { newId } from "@/server/ids";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { createProject } from "@/server/operations/create-project";
import { localProviderChoices } from "../helpers/local-providers";

// Shared set-up for the event store, webhook and streaming tests: an operator with stored credentials, a project
// (task, revision, share session) and sandboxes with their webhook secrets.

/** Nothing listens on the discard port: credential checks are "unreachable" and the credentials are saved as is. */
const nowhere = "http://127.0.0.1:9";

/** Planted values: none of the operator's has a recognisable token shape, so only known-secret redaction can catch them. */
export const planted = {
  operatorVercel: "vrc-Opr8tor-Vercel-Tok3n-Qw7Zx",
  operatorTidbPrivate: "5d1c0a7e-9b3f-4e2a-8c6d-0f1e2d3c4b5a",
  operatorTidbPublic: "TIDBPUB7Q2M9X",
  operatorOpenai: "opr-openai-key-Lm5Pr8Ts1Yu4",
  platformAnthropic: "plat-anthropic-Hk2Jm4Nq6",
  platformAdminPassword: "admin-Pa55word-Zp3Wq",
  platformBlobToken: "vercel_blob_rw_Kd93jf02kLwq_Mx81",
} as const;

export function credentialContext(): CredentialContext {
  const endpoints = {
    githubApiUrl: nowhere,
    vercelApiUrl: nowhere,
    tidbCloudApiUrl: nowhere,
    openaiBaseUrl: nowhere,
    anthropicBaseUrl: nowhere,
    allowPrivateModelUrls: false,
  };
  return {
    key: randomBytes(32),
    endpoints,
    platformDefaults: { anthropic: { apiKey: planted.platformAnthropic } },
    verify: (input) => verifyCredential(input, { endpoints }),
  };
}

export const platformSecrets = [planted.platformAdminPassword, planted.platformBlobToken];

export type ProjectFixture = {
  userId: string;
  projectId: string;
  taskId: string;
  revisionId: string;
  slug: string;
};

export async function createProjectFixture(db: Database, ctx: CredentialContext): Promise<ProjectFixture> {
  const user = await createOperator(
    db,
    { email: `op-${randomBytes(4).toString("hex")}@kiln.test`, password: "correct horse battery" },
    { bcryptCost: 4 },
  );
  const credentials: CredentialInput[] = [
    { kind: "vercel", token: planted.operatorVercel, teamId: undefined, projectId: undefined },
    {
      kind: "tidbcloud",
      publicKey: planted.operatorTidbPublic,
      privateKey: planted.operatorTidbPrivate,
      projectId: undefined,
      region: undefined,
    },
    { kind: "openai", apiKey: planted.operatorOpenai },
  ];
  for (const input of credentials) await saveCredential(db, ctx, user.id, input);
  const created = await createProject(
    db,
    user.id,
    { prompt: "A todo list with due dates" },
    localProviderChoices,
  );
  return {
    userId: user.id,
    projectId: created.project.id,
    taskId: created.task.id,
    revisionId: created.revision.id,
    slug: created.session.slug,
  };
}

export type SandboxFixture = { id: string; project_id: string; secret: string };

/** A sandbox row running `revisionId`, as provisioning records it. */
export async function createSandboxFixture(
  db: Database,
  key: Buffer,
  fixture: Pick<ProjectFixture, "projectId" | "revisionId">,
  options: { stoppedAt?: number } = {},
): Promise<SandboxFixture> {
  const id = newId("sandbox");
  const secret = newWebhookSecret();
  const now = Date.now();
  await db
    .insertInto("sandbox")
    .values({
      id,
      project_id: fixture.projectId,
      provider: "local",
      external_id: null,
      status: options.stoppedAt ? "stopped" : "running",
      webhook_secret_ciphertext: encryptWebhookSecret(key, id, secret),
      preview_url: null,
      last_event_at: null,
      created_at: now,
      updated_at: now,
      stopped_at: options.stoppedAt ?? null,
    })
    .execute();
  await db.updateTable("revision").set({ sandbox_id: id }).where("id", "=", fixture.revisionId).execute();
  return { id, project_id: fixture.projectId, secret };
}

/** Runner-style events `<runId>-<seq>` for seqs [from, to). */
export function progressEvents(runId: string, from: number, to: number, text = "working"): WireEvent[] {
  const events: WireEvent[] = [];
  for (let seq = from; seq < to; seq++) {
    events.push({
      id: `${runId}-${seq}`,
      seq,
      at: 1_700_000_000_000 + seq,
      type: "agent.message",
      payload: { itemId: `item_${seq}`, text: `${text} ${seq}` },
    });
  }
  return events;
}
