import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import {
  availableCredentialKinds,
  type CredentialContext,
  deleteCredential,
  listCredentialStatuses,
  resolveCredential,
  saveCredential,
} from "@/server/credentials/credential-store";
import type { CredentialInput, CredentialKind } from "@/server/credentials/kinds";
import type { PlatformDefaults, VendorEndpoints } from "@/server/credentials/platform-defaults";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { startFakeAnthropic } from "../fakes/anthropic";
import { startFakeGitHub } from "../fakes/github";
import type { FakeServer } from "../fakes/http";
import { startFakeOpenAI } from "../fakes/openai";
import { startFakeTiDBCloud } from "../fakes/tidbcloud";
import { startFakeVercel } from "../fakes/vercel";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";

const githubToken = "ghp_Q7vXk2LmN9pR4sT6wY8zA1bC3dE5fG7hJ9kM";
const vercelToken = "vcp_H4jK6mN8pQ1rS3tV5wX7yZ9aB2cD4eF";
const tidbPublicKey = "TPUBK7Q2M9";
const tidbPrivateKey = "8f3a91c2-d4e6-4b7a-9c1e-5f2a7d8b3c6e";
const openaiKey = "sk-proj-Vb7Nq3Wx9Kz2Lm5Pr8Ts1Yu4";
const anthropicKey = "sk-ant-api03-Jd6Fh2Gk8Lq4Mw9Nx3Pz7Rb5";

type Fakes = Record<"github" | "vercel" | "tidbcloud" | "openai" | "anthropic", FakeServer>;
let fakes: Fakes;
let endpoints: VendorEndpoints;
/** Where nothing listens any more: every check there is "unreachable". */
let unreachable: VendorEndpoints;

beforeAll(async () => {
  fakes = {
    github: await startFakeGitHub({ token: githubToken }),
    vercel: await startFakeVercel({
      token: vercelToken,
      teams: [{ id: "team_acme", slug: "acme", name: "Acme" }],
      projects: [{ id: "prj_web", name: "web", accountId: "team_acme" }],
    }),
    tidbcloud: await startFakeTiDBCloud({ publicKey: tidbPublicKey, privateKey: tidbPrivateKey }),
    openai: await startFakeOpenAI({ apiKey: openaiKey }),
    anthropic: await startFakeAnthropic({ apiKey: anthropicKey }),
  };
  endpoints = {
    githubApiUrl: fakes.github.url,
    vercelApiUrl: fakes.vercel.url,
    tidbCloudApiUrl: fakes.tidbcloud.url,
    openaiBaseUrl: `${fakes.openai.url}/v1`,
    anthropicBaseUrl: fakes.anthropic.url,
    // The fakes listen on 127.0.0.1, and some tests save operator base URLs pointing at them.
    allowPrivateModelUrls: true,
  };
  const closed = await startFakeGitHub({ token: githubToken });
  await closed.close();
  const nowhere = closed.url;
  unreachable = {
    githubApiUrl: nowhere,
    vercelApiUrl: nowhere,
    tidbCloudApiUrl: nowhere,
    openaiBaseUrl: `${nowhere}/v1`,
    anthropicBaseUrl: nowhere,
    allowPrivateModelUrls: true,
  };
});
afterAll(async () => {
  await Promise.all(Object.values(fakes).map((server) => server.close()));
});

type Case = {
  input: CredentialInput;
  secrets: string[];
  hint: string;
  /** Non-secret settings shown back to the operator. */
  fields: Record<string, string>;
};

function cases(): Case[] {
  return [
    { input: { kind: "github", token: githubToken }, secrets: [githubToken], hint: "J9kM", fields: {} },
    {
      input: { kind: "vercel", token: vercelToken, teamId: "team_acme", projectId: "prj_web" },
      secrets: [vercelToken],
      hint: "D4eF",
      fields: { teamId: "team_acme", projectId: "prj_web" },
    },
    {
      input: {
        kind: "tidbcloud",
        publicKey: tidbPublicKey,
        privateKey: tidbPrivateKey,
        projectId: "1372813089454548012",
        region: "regions/aws-us-east-1",
      },
      secrets: [tidbPublicKey, tidbPrivateKey],
      hint: "3c6e",
      fields: { projectId: "1372813089454548012", region: "regions/aws-us-east-1" },
    },
    {
      input: { kind: "openai", apiKey: openaiKey, baseUrl: `${fakes.openai.url}/v1` },
      secrets: [openaiKey],
      hint: "1Yu4",
      fields: { baseUrl: `${fakes.openai.url}/v1` },
    },
    {
      input: { kind: "anthropic", apiKey: anthropicKey, baseUrl: undefined },
      secrets: [anthropicKey],
      hint: "7Rb5",
      fields: {},
    },
    {
      // Verified by listing the server's /models with the key.
      input: {
        kind: "openai-compatible",
        baseUrl: `${fakes.openai.url}/v1`,
        apiKey: openaiKey,
        price: "0,0",
      },
      secrets: [openaiKey],
      hint: "1Yu4",
      fields: { baseUrl: `${fakes.openai.url}/v1`, price: "0,0" },
    },
  ];
}

function payloadOf(input: CredentialInput): Record<string, unknown> {
  const { kind: _kind, ...payload } = input;
  return payload;
}

/** No secret, nor any 8-character stretch of one, appears in `text`. The 4-character hint is allowed. */
function expectNoSecretIn(text: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (let start = 0; start + 8 <= secret.length; start++) {
      const chunk = secret.slice(start, start + 8);
      expect(text.includes(chunk), `"${chunk}" of a secret leaked`).toBe(false);
    }
  }
}

describe.each(testDatabases)("credential store on $name", (factory) => {
  const key = randomBytes(32);
  let t: TestDatabase;
  let ada: { id: string };
  let grace: { id: string };

  function context(options: { endpoints?: VendorEndpoints; platformDefaults?: PlatformDefaults } = {}) {
    const ctx: CredentialContext = {
      key,
      endpoints: options.endpoints ?? endpoints,
      platformDefaults: options.platformDefaults ?? {},
      verify: (input) => verifyCredential(input, { endpoints: ctx.endpoints }),
    };
    return ctx;
  }

  function rowsOf(userId: string) {
    return t.db.selectFrom("credential").selectAll().where("user_id", "=", userId).execute();
  }

  async function statusOf(ctx: CredentialContext, userId: string, kind: CredentialKind) {
    const statuses = await listCredentialStatuses(t.db, ctx, userId);
    const status = statuses.find((candidate) => candidate.kind === kind);
    if (!status) throw new Error(`no status for ${kind}`);
    return status;
  }

  beforeEach(async () => {
    t = await factory.open();
    const password = "correct horse battery";
    ada = await createOperator(t.db, { email: "ada@example.com", password }, { bcryptCost: 4 });
    grace = await createOperator(t.db, { email: "grace@example.com", password }, { bcryptCost: 4 });
  });
  afterEach(async () => {
    await t.drop();
  });

  it("stores every kind encrypted and gives back exactly what was saved", async () => {
    const ctx = context();
    for (const { input, secrets } of cases()) {
      const result = await saveCredential(t.db, ctx, ada.id, input);
      expect(result.verification.status, input.kind).toBe("verified");

      const [row] = (await rowsOf(ada.id)).filter((candidate) => candidate.kind === input.kind);
      if (!row) throw new Error(`no row stored for ${input.kind}`);
      expect(row.ciphertext.startsWith("v1.")).toBe(true);
      // No column of the row, the ciphertext included, holds the secret in the clear.
      expectNoSecretIn(JSON.stringify(row), secrets);

      expect(await resolveCredential(t.db, ctx, ada.id, input.kind)).toEqual({
        source: "operator",
        payload: payloadOf(input),
      });
    }
    expect(await rowsOf(grace.id)).toEqual([]);
  });

  it("lists what is set with a 4-character hint and the non-secret settings, never a secret", async () => {
    const ctx = context();
    for (const { input } of cases()) await saveCredential(t.db, ctx, ada.id, input);

    const statuses = await listCredentialStatuses(t.db, ctx, ada.id);
    expect(statuses.map((status) => status.kind)).toEqual([
      "github",
      "vercel",
      "tidbcloud",
      "openai",
      "anthropic",
      "openai-compatible",
    ]);
    for (const { input, hint, fields } of cases()) {
      expect(statuses.find((status) => status.kind === input.kind)).toMatchObject({
        source: "operator",
        hint,
        fields,
        verifyStatus: "verified",
      });
    }
    expect(statuses.find((status) => status.kind === "github")?.verifyMessage).toBe(
      "Signed in to GitHub as octocat",
    );
    expectNoSecretIn(
      JSON.stringify(statuses),
      cases().flatMap((c) => c.secrets),
    );
  });

  it("refuses to decrypt a ciphertext copied onto another operator's row or another kind", async () => {
    const ctx = context();
    await saveCredential(t.db, ctx, ada.id, { kind: "github", token: githubToken });
    const [adaRow] = await rowsOf(ada.id);
    if (!adaRow) throw new Error("ada's credential was not stored");

    await t.db
      .insertInto("credential")
      .values({ ...adaRow, id: "crd_copiedtograce", user_id: grace.id })
      .execute();
    expect(await rejectionOf(resolveCredential(t.db, ctx, grace.id, "github"))).toBeInstanceOf(Error);
    expect(await rejectionOf(listCredentialStatuses(t.db, ctx, grace.id))).toBeInstanceOf(Error);

    // Vercel's payload schema would accept `{token}`: only the bound kind stops this.
    await t.db
      .insertInto("credential")
      .values({ ...adaRow, id: "crd_copiedtovercel", kind: "vercel" })
      .execute();
    expect(await rejectionOf(resolveCredential(t.db, ctx, ada.id, "vercel"))).toBeInstanceOf(Error);

    expect((await resolveCredential(t.db, ctx, ada.id, "github"))?.payload).toEqual({ token: githubToken });
  });

  it("refuses a credential the vendor rejects, stores nothing, and keeps the one already saved", async () => {
    const ctx = context();
    const wrongToken = "ghp_Wr0ngT0kenZx8Yv6Ut4Sr2Qp0On8Ml6";
    const error = await appErrorOf(saveCredential(t.db, ctx, ada.id, { kind: "github", token: wrongToken }));
    expect(error.code).toBe("rejected:credential");
    expect(error.message).toContain("GitHub rejected the token");
    expectNoSecretIn(error.message, [wrongToken]);
    expect(await rowsOf(ada.id)).toEqual([]);

    await saveCredential(t.db, ctx, ada.id, { kind: "github", token: githubToken });
    const before = await rowsOf(ada.id);
    expect(
      (await appErrorOf(saveCredential(t.db, ctx, ada.id, { kind: "github", token: wrongToken }))).code,
    ).toBe("rejected:credential");
    expect(await rowsOf(ada.id)).toEqual(before);
    expect((await resolveCredential(t.db, ctx, ada.id, "github"))?.payload).toEqual({ token: githubToken });
  });

  it("refuses an operator's model base URL on a loopback or private host, without connecting to it", async () => {
    // Something listening on the box (MariaDB, Kiln's own API, a preview) that the base URL would reach.
    const connections: string[] = [];
    const internal = net.createServer((socket) => {
      connections.push(socket.remoteAddress ?? "?");
      socket.destroy();
    });
    await new Promise<void>((resolve) => internal.listen(0, "127.0.0.1", resolve));
    const { port } = internal.address() as net.AddressInfo;
    try {
      const strict = context({ endpoints: { ...endpoints, allowPrivateModelUrls: false } });
      for (const [kind, baseUrl, reason] of [
        ["openai", `http://127.0.0.1:${port}`, "must use https://"],
        ["openai", `https://127.0.0.1:${port}/v1?x=1`, "loopback, private or link-local"],
        ["anthropic", `https://localhost:${port}`, "localhost is a loopback"],
        ["anthropic", "https://169.254.169.254/latest/meta-data", "loopback, private or link-local"],
        ["openai", `https://[::ffff:127.0.0.1]:${port}/v1`, "loopback, private or link-local"],
      ] as const) {
        const input: CredentialInput =
          kind === "openai" ? { kind, apiKey: openaiKey, baseUrl } : { kind, apiKey: anthropicKey, baseUrl };
        const error = await appErrorOf(saveCredential(t.db, strict, ada.id, input));
        expect([error.status, error.code]).toEqual([400, "bad_request:input"]);
        expect(error.fields?.baseUrl?.[0]).toContain(reason);
      }
      expect(connections).toEqual([]);
      expect(await rowsOf(ada.id)).toEqual([]);

      // A platform that allows private model hosts (Ollama beside Kiln) saves it, unverified here.
      const open = context({ endpoints: { ...endpoints, allowPrivateModelUrls: true } });
      const saved = await saveCredential(t.db, open, ada.id, {
        kind: "openai",
        apiKey: openaiKey,
        baseUrl: `http://127.0.0.1:${port}/v1`,
      });
      expect(saved.verification.status).toBe("unreachable");
    } finally {
      await new Promise((resolve) => internal.close(resolve));
    }
  });

  it("saves a credential as unverified when the vendor cannot be reached", async () => {
    const ctx = context({ endpoints: unreachable });
    const token = "ghp_Offl1neT0kenAb3Cd5Ef7Gh9Ij1Kl3";
    const result = await saveCredential(t.db, ctx, ada.id, { kind: "github", token });
    expect(result.verification.status).toBe("unreachable");

    const status = await statusOf(ctx, ada.id, "github");
    expect(status).toMatchObject({ source: "operator", hint: "1Kl3", verifyStatus: "unverified" });
    expect(status.verifyMessage).toContain("Could not reach GitHub");
    expect(status.verifyMessage).toContain("Saved without verifying");
    expectNoSecretIn(JSON.stringify(status), [token]);
    expect(await resolveCredential(t.db, ctx, ada.id, "github")).toEqual({
      source: "operator",
      payload: { token },
    });
  });

  it("replaces the previous credential of the same kind", async () => {
    await saveCredential(t.db, context(), ada.id, { kind: "github", token: githubToken });
    const replacement = "ghp_N3wT0kenQw2Er4Ty6Ui8Op0As2Df4";
    const offline = context({ endpoints: unreachable });
    await saveCredential(t.db, offline, ada.id, { kind: "github", token: replacement });

    expect(await rowsOf(ada.id)).toHaveLength(1);
    expect(await statusOf(offline, ada.id, "github")).toMatchObject({
      hint: "2Df4",
      verifyStatus: "unverified",
    });
    expect((await resolveCredential(t.db, offline, ada.id, "github"))?.payload).toEqual({
      token: replacement,
    });
  });

  it("falls back to platform defaults until the operator saves their own, and again after they delete it", async () => {
    const platformGithub = "ghp_Pl4tf0rmT0kenZz9Yy8Xx7Ww6Vv5Uu4";
    const platformVercel = "vcp_Pl4tf0rmVerc3lTk9Rr8Qq7";
    const ctx = context({
      platformDefaults: {
        github: { token: platformGithub },
        vercel: { token: platformVercel, teamId: "team_platform", projectId: undefined },
      },
    });

    const before = await listCredentialStatuses(t.db, ctx, ada.id);
    expect(before.map((status) => [status.kind, status.source])).toEqual([
      ["github", "platform"],
      ["vercel", "platform"],
      ["tidbcloud", "none"],
      ["openai", "none"],
      ["anthropic", "none"],
      ["openai-compatible", "none"],
    ]);
    expect(before.find((status) => status.kind === "vercel")).toMatchObject({
      hint: null,
      fields: { teamId: "team_platform" },
      platformDefaultAvailable: true,
    });
    expectNoSecretIn(JSON.stringify(before), [platformGithub, platformVercel]);
    expect(await resolveCredential(t.db, ctx, ada.id, "github")).toEqual({
      source: "platform",
      payload: { token: platformGithub },
    });
    expect(await resolveCredential(t.db, ctx, ada.id, "openai")).toBeUndefined();
    expect(await availableCredentialKinds(t.db, ctx, ada.id)).toEqual(new Set(["github", "vercel"]));

    await saveCredential(t.db, ctx, ada.id, { kind: "github", token: githubToken });
    await saveCredential(t.db, ctx, ada.id, { kind: "openai", apiKey: openaiKey, baseUrl: undefined });
    expect(await statusOf(ctx, ada.id, "github")).toMatchObject({
      source: "operator",
      platformDefaultAvailable: true,
    });
    expect(await statusOf(ctx, ada.id, "openai")).toMatchObject({
      source: "operator",
      platformDefaultAvailable: false,
    });
    expect(await resolveCredential(t.db, ctx, ada.id, "github")).toEqual({
      source: "operator",
      payload: { token: githubToken },
    });
    expect(await availableCredentialKinds(t.db, ctx, ada.id)).toEqual(
      new Set(["github", "vercel", "openai"]),
    );
    // Another operator still gets the platform's.
    expect((await resolveCredential(t.db, ctx, grace.id, "github"))?.source).toBe("platform");

    await deleteCredential(t.db, ada.id, "github");
    await deleteCredential(t.db, ada.id, "openai");
    expect(await statusOf(ctx, ada.id, "github")).toMatchObject({
      source: "platform",
      hint: null,
      verifyStatus: null,
    });
    expect(await statusOf(ctx, ada.id, "openai")).toMatchObject({ source: "none", hint: null, fields: {} });
    expect((await resolveCredential(t.db, ctx, ada.id, "github"))?.source).toBe("platform");
    expect(await resolveCredential(t.db, ctx, ada.id, "openai")).toBeUndefined();
    expect(await rowsOf(ada.id)).toEqual([]);
  });

  it("deletes only the operator's own credential, and says not found otherwise", async () => {
    const ctx = context();
    await saveCredential(t.db, ctx, ada.id, { kind: "github", token: githubToken });

    expect((await appErrorOf(deleteCredential(t.db, grace.id, "github"))).code).toBe("not_found:credential");
    expect((await appErrorOf(deleteCredential(t.db, ada.id, "vercel"))).code).toBe("not_found:credential");
    expect((await resolveCredential(t.db, ctx, ada.id, "github"))?.source).toBe("operator");

    await deleteCredential(t.db, ada.id, "github");
    expect((await appErrorOf(deleteCredential(t.db, ada.id, "github"))).code).toBe("not_found:credential");
  });

  it("keeps operators' credentials apart", async () => {
    const ctx = context();
    await saveCredential(t.db, ctx, ada.id, { kind: "github", token: githubToken });
    expect(await resolveCredential(t.db, ctx, grace.id, "github")).toBeUndefined();
    expect(await availableCredentialKinds(t.db, ctx, grace.id)).toEqual(new Set());
    expect((await statusOf(ctx, grace.id, "github")).source).toBe("none");
  });
});
