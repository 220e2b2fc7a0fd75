import { afterEach, describe, expect, it } from "vitest";
import type { CredentialInput, CredentialKind } from "../../src/server/credentials/kinds";
import type { VendorEndpoints } from "../../src/server/credentials/platform-defaults";
import type { VerifyResult } from "../../src/server/credentials/verify-result";
import { type VerifyOptions, verifyCredential } from "../../src/server/integrations/verify-credential";
import { startFakeAnthropic } from "../fakes/anthropic";
import { startFakeGitHub } from "../fakes/github";
import { type FakeInterceptor, type FakeServer, json } from "../fakes/http";
import { startFakeOpenAI } from "../fakes/openai";
import { startFakeTiDBCloud } from "../fakes/tidbcloud";
import { startFakeVercel } from "../fakes/vercel";

/** Nothing listens on port 9 (discard) here: any check aimed at a vendor other than the one under test fails loudly. */
const nowhere = "http://127.0.0.1:9";
const baseEndpoints: VendorEndpoints = {
  githubApiUrl: nowhere,
  vercelApiUrl: nowhere,
  tidbCloudApiUrl: nowhere,
  openaiBaseUrl: `${nowhere}/v1`,
  anthropicBaseUrl: nowhere,
  // Verification connects wherever it is told; which base URLs may be saved is credential-store's check.
  allowPrivateModelUrls: true,
};

const servers: FakeServer[] = [];
function track<T extends FakeServer>(server: T): T {
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const tidbPublicKey = "TIDBPUB01";

type Harness = {
  kind: CredentialKind;
  label: string;
  goodSecret: string;
  wrongSecret: string;
  start(secret: string, intercept?: FakeInterceptor): Promise<FakeServer>;
  input(secret: string): CredentialInput;
  endpoints(url: string): Partial<VendorEndpoints>;
  verifiedDetail: RegExp;
  /** Every secret the input carries: none may appear in a result. */
  secrets(secret: string): string[];
};

const harnesses: Harness[] = [
  {
    kind: "github",
    label: "GitHub",
    goodSecret: "ghp_GoodToken000000000000000000000001",
    wrongSecret: "ghp_WrongToken00000000000000000000002",
    start: (token, intercept) =>
      startFakeGitHub({ token, user: { login: "octocat" }, ...(intercept ? { intercept } : {}) }),
    input: (token) => ({ kind: "github", token }),
    endpoints: (url) => ({ githubApiUrl: url }),
    verifiedDetail: /^Signed in to GitHub as octocat$/,
    secrets: (token) => [token],
  },
  {
    kind: "vercel",
    label: "Vercel",
    goodSecret: "vcp_GoodToken0000000000000001",
    wrongSecret: "vcp_WrongToken000000000000002",
    start: (token, intercept) =>
      startFakeVercel({ token, user: { username: "ada" }, ...(intercept ? { intercept } : {}) }),
    input: (token) => ({ kind: "vercel", token, teamId: undefined, projectId: undefined }),
    endpoints: (url) => ({ vercelApiUrl: url }),
    verifiedDetail: /^Signed in to Vercel as ada$/,
    secrets: (token) => [token],
  },
  {
    kind: "tidbcloud",
    label: "TiDB Cloud",
    goodSecret: "1f0e2d3c-good-private-key",
    wrongSecret: "9a8b7c6d-wrong-private-key",
    start: (privateKey, intercept) =>
      startFakeTiDBCloud({ publicKey: tidbPublicKey, privateKey, ...(intercept ? { intercept } : {}) }),
    input: (privateKey) => ({
      kind: "tidbcloud",
      publicKey: tidbPublicKey,
      privateKey,
      projectId: undefined,
      region: undefined,
    }),
    endpoints: (url) => ({ tidbCloudApiUrl: url }),
    verifiedDetail: /^Signed in to TiDB Cloud; the API key can list clusters \(1 cluster visible\)$/,
    secrets: (privateKey) => [tidbPublicKey, privateKey],
  },
  {
    kind: "openai",
    label: "OpenAI",
    goodSecret: "sk-proj-GoodKey000000000000000001",
    wrongSecret: "sk-proj-WrongKey00000000000000002",
    start: (apiKey, intercept) => startFakeOpenAI({ apiKey, ...(intercept ? { intercept } : {}) }),
    input: (apiKey) => ({ kind: "openai", apiKey, baseUrl: undefined }),
    endpoints: (url) => ({ openaiBaseUrl: `${url}/v1` }),
    verifiedDetail: /^OpenAI accepted the API key \(3 models available\)$/,
    secrets: (apiKey) => [apiKey],
  },
  {
    kind: "anthropic",
    label: "Anthropic",
    goodSecret: "sk-ant-api03-GoodKey00000000000001",
    wrongSecret: "sk-ant-api03-WrongKey0000000000002",
    start: (apiKey, intercept) => startFakeAnthropic({ apiKey, ...(intercept ? { intercept } : {}) }),
    input: (apiKey) => ({ kind: "anthropic", apiKey, baseUrl: undefined }),
    endpoints: (url) => ({ anthropicBaseUrl: url }),
    verifiedDetail: /^Anthropic accepted the API key \(2 models available\)$/,
    secrets: (apiKey) => [apiKey],
  },
];

function textOf(result: VerifyResult): string {
  return result.status === "verified" ? result.detail : result.message;
}

function expectNoSecret(result: VerifyResult, secrets: string[]): void {
  const text = JSON.stringify(result);
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    // Also no recognisable chunk of it (e.g. a vendor's "sk-pro***…0001" echo).
    expect(text).not.toContain(secret.slice(-12));
  }
}

function options(harness: Harness, server: FakeServer, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { endpoints: { ...baseEndpoints, ...harness.endpoints(server.url) }, ...extra };
}

function hostOf(server: FakeServer): string {
  return new URL(server.url).host;
}

describe.each(harnesses)("verifyCredential: $kind", (harness) => {
  it("is verified with the right secret, through the injected fetch", async () => {
    const server = track(await harness.start(harness.goodSecret));
    const seen: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };

    const result = await verifyCredential(
      harness.input(harness.goodSecret),
      options(harness, server, { fetch: countingFetch }),
    );

    expect(result).toEqual({ status: "verified", detail: expect.stringMatching(harness.verifiedDetail) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((url) => url.startsWith(server.url))).toBe(true);
    expectNoSecret(result, harness.secrets(harness.goodSecret));
  });

  it("is rejected with a wrong secret, naming the vendor and what to do", async () => {
    const server = track(await harness.start(harness.goodSecret));

    const result = await verifyCredential(harness.input(harness.wrongSecret), options(harness, server));

    expect(result.status).toBe("rejected");
    expect(textOf(result)).toContain(harness.label);
    expect(textOf(result)).toMatch(/Check .+|create a new/);
    expectNoSecret(result, [...harness.secrets(harness.wrongSecret), harness.goodSecret]);
  });

  it("is unreachable when nothing listens", async () => {
    const server = await harness.start(harness.goodSecret);
    await server.close();

    const result = await verifyCredential(harness.input(harness.goodSecret), options(harness, server));

    expect(result).toEqual({
      status: "unreachable",
      message: `Could not reach ${harness.label} at ${hostOf(server)} (connection refused). Saved without verifying.`,
    });
  });

  it("is unreachable on a 500, without retrying", async () => {
    const server = track(
      await harness.start(harness.goodSecret, () => json(500, { message: `boom ${harness.goodSecret}` })),
    );

    const result = await verifyCredential(harness.input(harness.goodSecret), options(harness, server));

    expect(result.status).toBe("unreachable");
    expect(textOf(result)).toBe(
      `Could not reach ${harness.label} at ${hostOf(server)} (the server answered HTTP 500). Saved without verifying.`,
    );
    expect(server.requests).toHaveLength(1);
    expectNoSecret(result, harness.secrets(harness.goodSecret));
  });

  it("is unreachable when the vendor hangs past the timeout", async () => {
    const server = track(await harness.start(harness.goodSecret, () => ({ hang: true })));
    const started = performance.now();

    const result = await verifyCredential(
      harness.input(harness.goodSecret),
      options(harness, server, { timeoutMs: 300 }),
    );

    expect(performance.now() - started).toBeLessThan(3000);
    expect(result).toEqual({
      status: "unreachable",
      message: `Could not reach ${harness.label} at ${hostOf(server)} (no answer within 300 ms). Saved without verifying.`,
    });
  });

  it("is unreachable, with a clear reason, when a 200 has an unexpected shape", async () => {
    const server = track(await harness.start(harness.goodSecret, () => json(200, { surprise: true })));

    const result = await verifyCredential(harness.input(harness.goodSecret), options(harness, server));

    expect(result.status).toBe("unreachable");
    expect(textOf(result)).toMatch(/\(unexpected response at \w+: .+\)\. Saved without verifying\.$/);
  });

  it("is unreachable (not rejected) when rate limited", async () => {
    const server = track(
      await harness.start(harness.goodSecret, () =>
        json(429, { message: "slow down" }, { "retry-after": "30", "x-ratelimit-remaining": "0" }),
      ),
    );

    const result = await verifyCredential(harness.input(harness.goodSecret), options(harness, server));

    expect(result.status).toBe("unreachable");
    expect(textOf(result)).toMatch(/rate limited/);
  });

  it("never echoes a secret the vendor puts in its refusal", async () => {
    const secret = harness.goodSecret;
    const server = track(
      await harness.start(secret, () =>
        json(401, {
          message: `Bad credentials: ${secret}`,
          error: {
            message: `Incorrect API key provided: ${secret}`,
            type: "authentication_error",
            code: secret,
          },
        }),
      ),
    );

    const result = await verifyCredential(harness.input(secret), options(harness, server));

    expect(result.status).toBe("rejected");
    expectNoSecret(result, harness.secrets(secret));
  });

  it("rejects a secret that cannot be sent in a header without sending it or echoing it", async () => {
    const server = track(await harness.start(harness.goodSecret));
    const garbled = `${harness.goodSecret.slice(0, 10)}\u00e9\u20ac${harness.goodSecret.slice(10)}`;

    const result = await verifyCredential(harness.input(garbled), options(harness, server));

    expect(result.status).toBe("rejected");
    expect(textOf(result)).toContain(harness.label);
    expect(server.requests).toHaveLength(0);
    expectNoSecret(result, harness.secrets(garbled));
  });
});

describe("verifyCredential: vendor specifics", () => {
  it("GitHub: sends the token the way Octokit does, to GET /user", async () => {
    const token = "ghp_GoodToken000000000000000000000001";
    const server = track(await startFakeGitHub({ token }));
    await verifyCredential(
      { kind: "github", token },
      { endpoints: { ...baseEndpoints, githubApiUrl: server.url } },
    );
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(["GET /user"]);
    expect(server.requests[0]?.headers.authorization).toBe(`token ${token}`);
  });

  it("GitHub: a 403 that is a rate limit is unreachable, not a refusal of the token", async () => {
    const token = "ghp_GoodToken000000000000000000000001";
    const server = track(
      await startFakeGitHub({
        token,
        intercept: () => json(403, { message: "API rate limit exceeded" }, { "x-ratelimit-remaining": "0" }),
      }),
    );
    const result = await verifyCredential(
      { kind: "github", token },
      { endpoints: { ...baseEndpoints, githubApiUrl: server.url } },
    );
    expect(result).toEqual({
      status: "unreachable",
      message: `Could not reach GitHub at ${hostOf(server)} (rate limited by GitHub; try again in a few minutes). Saved without verifying.`,
    });
  });

  describe("Vercel team and project", () => {
    const token = "vcp_GoodToken0000000000000001";
    const startVercel = () =>
      startFakeVercel({
        token,
        user: { id: "usr_1", username: "ada" },
        teams: [{ id: "team_abc", slug: "acme", name: "Acme" }],
        projects: [
          { id: "prj_team", name: "shop", accountId: "team_abc" },
          { id: "prj_own", name: "blog", accountId: "usr_1" },
        ],
      });
    const verify = (server: FakeServer, teamId: string | undefined, projectId: string | undefined) =>
      verifyCredential(
        { kind: "vercel", token, teamId, projectId },
        { endpoints: { ...baseEndpoints, vercelApiUrl: server.url } },
      );

    it("verifies a team and a project in it, asking for the project within the team", async () => {
      const server = track(await startVercel());
      const result = await verify(server, "team_abc", "prj_team");
      expect(result).toEqual({
        status: "verified",
        detail: "Signed in to Vercel as ada · team Acme · project shop",
      });
      expect(server.requests.map((request) => request.path)).toEqual([
        "/v2/user",
        "/v2/teams/team_abc",
        "/v9/projects/prj_team?teamId=team_abc",
      ]);
      expect(server.requests.every((request) => request.headers.authorization === `Bearer ${token}`)).toBe(
        true,
      );
    });

    it("verifies a personal project without a team", async () => {
      const server = track(await startVercel());
      expect(await verify(server, undefined, "prj_own")).toEqual({
        status: "verified",
        detail: "Signed in to Vercel as ada · project blog",
      });
    });

    it("rejects an unknown team, naming it", async () => {
      const server = track(await startVercel());
      const result = await verify(server, "team_nope", undefined);
      expect(result.status).toBe("rejected");
      expect(textOf(result)).toContain('no team "team_nope"');
      expect(textOf(result)).toContain("Check the team ID");
    });

    it("rejects a project that is not in the given account", async () => {
      const server = track(await startVercel());
      const result = await verify(server, undefined, "prj_team");
      expect(result.status).toBe("rejected");
      expect(textOf(result)).toContain('no project "prj_team" in your personal account');
    });
  });

  it("TiDB Cloud: verifies over SHA-256 digest, and calls a 429 rate limit unreachable", async () => {
    const privateKey = "1f0e2d3c-good-private-key";
    const input: CredentialInput = {
      kind: "tidbcloud",
      publicKey: tidbPublicKey,
      privateKey,
      projectId: undefined,
      region: undefined,
    };
    const sha = track(
      await startFakeTiDBCloud({ publicKey: tidbPublicKey, privateKey, algorithms: ["SHA-256"] }),
    );
    const verified = await verifyCredential(input, {
      endpoints: { ...baseEndpoints, tidbCloudApiUrl: sha.url },
    });
    expect(verified.status).toBe("verified");
    expect(sha.requests.map((request) => request.path)).toEqual([
      "/clusters?pageSize=1",
      "/clusters?pageSize=1",
    ]);

    const limited = track(
      await startFakeTiDBCloud({ publicKey: tidbPublicKey, privateKey, rateLimitAfter: 0 }),
    );
    const result = await verifyCredential(input, {
      endpoints: { ...baseEndpoints, tidbCloudApiUrl: limited.url },
    });
    expect(result).toEqual({
      status: "unreachable",
      message: `Could not reach TiDB Cloud at ${hostOf(limited)} (rate limited by TiDB Cloud, 100 requests/min per key). Saved without verifying.`,
    });
    expect(limited.requests).toHaveLength(2);
  });

  it("OpenAI: the credential's own base URL wins over the default", async () => {
    const apiKey = "sk-proj-GoodKey000000000000000001";
    const server = track(await startFakeOpenAI({ apiKey }));
    const result = await verifyCredential(
      { kind: "openai", apiKey, baseUrl: `${server.url}/v1` },
      { endpoints: baseEndpoints },
    );
    expect(result).toEqual({
      status: "verified",
      detail: `OpenAI at ${hostOf(server)} accepted the API key (3 models available)`,
    });
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(["GET /v1/models"]);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it("OpenAI: a base URL that answers 404 is unreachable with a hint, not a rejection", async () => {
    const apiKey = "sk-proj-GoodKey000000000000000001";
    const server = track(await startFakeOpenAI({ apiKey }));
    const result = await verifyCredential(
      { kind: "openai", apiKey, baseUrl: server.url },
      { endpoints: baseEndpoints },
    );
    expect(result.status).toBe("unreachable");
    expect(textOf(result)).toContain("unexpected HTTP 404, check the base URL");
  });

  it("Anthropic: the credential's own base URL wins, and the SDK sends x-api-key and anthropic-version", async () => {
    const apiKey = "sk-ant-api03-GoodKey00000000000001";
    const server = track(await startFakeAnthropic({ apiKey }));
    const result = await verifyCredential(
      { kind: "anthropic", apiKey, baseUrl: server.url },
      { endpoints: baseEndpoints },
    );
    expect(result.status).toBe("verified");
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.path).toBe("/v1/models");
    expect(request?.headers["x-api-key"]).toBe(apiKey);
    expect(request?.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(request?.headers.authorization).toBeUndefined();
  });
});
