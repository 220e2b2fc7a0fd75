import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployCommitInput, Deployer } from "../../../src/server/integrations/deployer/port";
import {
  createVercelDeployer,
  type VercelDeployerOptions,
} from "../../../src/server/integrations/deployer/vercel";
import type { RepoRef } from "../../../src/server/integrations/git-host/port";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeDeployerContract } from "../../contracts/deployer";
import { type FakeInterceptor, type FakeReply, json } from "../../fakes/http";
import {
  type FakeVercelDeployments,
  startFakeVercelDeployments,
  vercelRateLimited,
} from "../../fakes/vercel-deployments";
import { rejectionOf } from "../../helpers/errors";

// Recognisable secrets: neither may surface in any error message.
const token = "vcp_SECRETdeployTOKEN000000000000001";
const dbPassword = "pw-SECRETdbPASSWORD-42";
const teamId = "team_kilnFake000000000001";
const projectId = "prj_kilnFakeApps0000000001";
const goodSha = "0123456789abcdef0123456789abcdef01234567";
const badSha = "badbadbadbadbadbadbadbadbadbadbadbadbad0";

let fake: FakeVercelDeployments;
/** Faults for the next matching requests, consumed in order. */
const faults: FakeInterceptor[] = [];

beforeAll(async () => {
  fake = await startFakeVercelDeployments({
    token,
    teams: [{ id: teamId, slug: "kiln" }],
    projects: [{ id: projectId, name: "kiln-apps", accountId: teamId }],
    repos: ["kiln-apps/todo", "kiln-apps/notes"],
    failingShas: [badSha],
    intercept: (request) => {
      for (const [index, fault] of faults.entries()) {
        const reply = fault(request);
        if (reply instanceof Promise) throw new Error("faults here are synchronous");
        if (reply) {
          faults.splice(index, 1);
          return reply;
        }
      }
      return undefined;
    },
  });
});
afterAll(async () => {
  await fake?.close();
});

function makeDeployer(overrides: Partial<VercelDeployerOptions> = {}): Deployer {
  return createVercelDeployer({
    token,
    teamId,
    projectId,
    apiUrl: fake.url,
    pollIntervalMs: 5,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
    ...overrides,
  });
}

const gitSource = (sha = goodSha, repoFullName = "kiln-apps/todo") =>
  ({ kind: "git", repoFullName, ref: "kiln/rev-1", sha }) as const;

const githubRepo: RepoRef = {
  host: "github",
  fullName: "kiln-apps/notes",
  webUrl: "https://github.com/kiln-apps/notes",
  defaultBranch: "main",
};
const pushedCommit = (repo: RepoRef = githubRepo): DeployCommitInput["commit"] => ({
  repo,
  branch: "kiln/task-1",
  sha: goodSha,
  // Vercel builds a pushed commit from GitHub itself: Kiln never exports its files.
  exportFiles: async () => {
    throw new Error("the Vercel deployer must not export a commit's files");
  },
});

async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  for (const secret of [token, "SECRETdeployTOKEN", dbPassword]) expect(error.message).not.toContain(secret);
  return error;
}

function recordedEnv(deploymentId: string) {
  const deployment = fake.deployments.get(deploymentId);
  if (!deployment) throw new Error(`the fake never saw deployment ${deploymentId}`);
  return deployment;
}

describeDeployerContract("vercel (fake Vercel API)", async () => ({
  deployer: makeDeployer(),
  workingSource: async () => gitSource(),
  failingSource: async () => gitSource(badSha),
  // The fake records what each create call carried; both run time and build time must hold the values.
  deployedEnv: async (deployment) => {
    const { env, buildEnv } = recordedEnv(deployment.id);
    expect(buildEnv).toEqual(env);
    return env;
  },
  pushedCommit: async () => pushedCommit(),
  deployedCommit: async (deployment) => recordedEnv(deployment.id).gitSource.sha,
  retiresReplaced: false,
  waitTimeoutMs: 10_000,
}));

describe("vercel Deployer on the wire", () => {
  it("creates a preview deployment of the commit in the configured project and team", async () => {
    const before = fake.requests.length;
    const deployment = await makeDeployer().deploy({
      name: "Todo App #3",
      source: gitSource(),
      env: { DATABASE_URL: `mysql://app:${dbPassword}@db/rev3`, KILN_SECRET: "@starts-with-at" },
    });
    const request = fake.requests.slice(before).find((candidate) => candidate.method === "POST");
    const url = new URL(request?.path ?? "/", "http://fake");
    expect(url.pathname).toBe("/v13/deployments");
    expect(url.searchParams.get("teamId")).toBe(teamId);
    expect(url.searchParams.get("forceNew")).toBe("1");
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    const body: unknown = JSON.parse(request?.body ?? "{}");
    expect(body).toMatchObject({
      name: "todo-app-3",
      project: projectId,
      gitSource: { type: "github", org: "kiln-apps", repo: "todo", ref: "kiln/rev-1", sha: goodSha },
      env: { DATABASE_URL: `mysql://app:${dbPassword}@db/rev3`, KILN_SECRET: "\\@starts-with-at" },
      build: { env: { DATABASE_URL: `mysql://app:${dbPassword}@db/rev3` } },
    });
    expect(body).not.toHaveProperty("target");
    expect(deployment).toMatchObject({ state: "queued", url: null, errorMessage: null });
    // Never the project's shared variables.
    expect(fake.requests.some((candidate) => candidate.path.includes("/env"))).toBe(false);
  });

  it("follows QUEUED → BUILDING → READY and gives an https URL only once ready", async () => {
    const deployer = makeDeployer();
    const { id } = await deployer.deploy({ name: "states", source: gitSource(), env: {} });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await deployer.getDeployment(id));
    expect(seen.map((d) => d?.state)).toEqual(["queued", "building", "ready"]);
    expect(seen.map((d) => d?.url === null)).toEqual([true, true, false]);
    expect(seen[2]?.url).toBe(`https://${recordedEnv(id).host}`);
  });

  it("reads build errors from the end of the log, without colour codes, capped", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `\u001b[31merror line ${i}\u001b[39m`);
    const local = await startFakeVercelDeployments({
      token,
      projects: [{ id: projectId, name: "kiln-apps", accountId: "usr_fake0000000000000001" }],
      failingShas: [badSha],
      failingBuildErrors: lines,
      eventShape: "payload",
    });
    try {
      const deployer = makeDeployer({ apiUrl: local.url, teamId: undefined, buildErrorLimit: 50 });
      const { id } = await deployer.deploy({ name: "many-errors", source: gitSource(badSha), env: {} });
      const failed = await deployer.waitForDeployment(id);
      expect(failed.errorMessage).toBe(
        'Command "npm run build" exited with 1 (step build, BUILD_UTILS_SPAWN_1)',
      );
      const errors = await deployer.buildErrors(id);
      expect(errors).toHaveLength(50);
      expect(errors.at(-1)).toBe("error line 299");
      expect(errors[0]).toBe("error line 250");
      const eventsRequest = local.requests.find((request) => request.path.includes("/events"));
      expect(eventsRequest?.path).toMatch(/builds=1/);
      expect(eventsRequest?.path).toMatch(/direction=backward/);
    } finally {
      await local.close();
    }
  });

  it("deploys a pushed commit as its GitHub source, on the task's branch", async () => {
    const deployment = await makeDeployer().deployCommit({ name: "commit", commit: pushedCommit(), env: {} });
    expect(recordedEnv(deployment.id).gitSource).toEqual({
      type: "github",
      org: "kiln-apps",
      repo: "notes",
      ref: "kiln/task-1",
      sha: goodSha,
    });
  });

  it("refuses a commit of a local repository as invalid, before any call", async () => {
    const before = fake.requests.length;
    const error = await providerErrorOf(
      makeDeployer().deployCommit({
        name: "local",
        commit: pushedCommit({ ...githubRepo, host: "local", webUrl: "/data/git/notes.git" }),
        env: {},
      }),
    );
    expect(error).toMatchObject({ vendor: "vercel", kind: "invalid" });
    expect(error.message).toMatch(/GitHub/);
    expect(fake.requests.length).toBe(before);
  });

  it("refuses a directory source as unsupported and malformed sources as invalid, before any call", async () => {
    const deployer = makeDeployer();
    const before = fake.requests.length;
    const directory = await providerErrorOf(
      deployer.deploy({ name: "x", source: { kind: "directory", path: "/tmp/x" }, env: {} }),
    );
    expect(directory).toMatchObject({ kind: "unsupported" });
    for (const source of [
      gitSource(goodSha, "not-a-repo"),
      gitSource("not-a-sha"),
      { kind: "git" as const, repoFullName: "kiln-apps/todo", ref: " ", sha: goodSha },
    ]) {
      expect(await providerErrorOf(deployer.deploy({ name: "x", source, env: {} }))).toMatchObject({
        kind: "invalid",
      });
    }
    const badEnv = await providerErrorOf(
      deployer.deploy({ name: "x", source: gitSource(), env: { "BAD-NAME": "1" } }),
    );
    expect(badEnv).toMatchObject({ kind: "invalid" });
    expect(fake.requests.length).toBe(before);
  });
});

describe("vercel Deployer publishing (a project's stable alias)", () => {
  async function readyDeployment(deployer: Deployer): Promise<string> {
    const started = await deployer.deploy({ name: "publish", source: gitSource(), env: {} });
    const done = await deployer.waitForDeployment(started.id, { timeoutMs: 10_000 });
    expect(done.state).toBe("ready");
    return done.id;
  }

  it("assigns <alias>.vercel.app to the deployment in the team, and moves it to the next one published", async () => {
    const deployer = makeDeployer();
    const first = await readyDeployment(deployer);
    const before = fake.requests.length;
    expect(await deployer.publish(first, "guestbook-5k3x")).toEqual({
      url: "https://guestbook-5k3x.vercel.app",
    });
    const request = fake.requests.slice(before).find((candidate) => candidate.method === "POST");
    const url = new URL(request?.path ?? "/", "http://fake");
    expect(url.pathname).toBe(`/v2/deployments/${first}/aliases`);
    expect(url.searchParams.get("teamId")).toBe(teamId);
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    expect(JSON.parse(request?.body ?? "{}")).toEqual({ alias: "guestbook-5k3x.vercel.app" });
    expect(fake.aliases.get("guestbook-5k3x.vercel.app")?.deploymentId).toBe(first);

    // The same stable URL, now serving the newer deployment; the older one is left as it was.
    const second = await readyDeployment(deployer);
    expect(await deployer.publish(second, "guestbook-5k3x")).toEqual({
      url: "https://guestbook-5k3x.vercel.app",
    });
    expect(fake.aliases.get("guestbook-5k3x.vercel.app")?.deploymentId).toBe(second);
    expect(fake.deployments.get(first)?.deleted).toBe(false);
  });

  it("removes the alias on unpublish, and an alias already gone is fine", async () => {
    const deployer = makeDeployer();
    await deployer.publish(await readyDeployment(deployer), "notes-7q2m");
    const before = fake.requests.length;
    await deployer.unpublish("notes-7q2m");
    const request = fake.requests.slice(before).find((candidate) => candidate.method === "DELETE");
    expect(new URL(request?.path ?? "/", "http://fake").pathname).toBe("/v2/aliases/notes-7q2m.vercel.app");
    expect(fake.aliases.has("notes-7q2m.vercel.app")).toBe(false);
    await expect(deployer.unpublish("notes-7q2m")).resolves.toBeUndefined();
  });

  it("refuses an alias that is not one DNS label before any call, and maps Vercel's refusals", async () => {
    const deployer = makeDeployer();
    const id = await readyDeployment(deployer);
    const before = fake.requests.length;
    for (const alias of ["Has Spaces", "evil.example.com", "-dash", ""]) {
      expect((await providerErrorOf(deployer.publish(id, alias))).kind).toBe("invalid");
    }
    expect(fake.requests.length).toBe(before);
    // Another Vercel account holds the alias.
    fake.aliases.set("taken-1234.vercel.app", {
      uid: "als_other",
      alias: "taken-1234.vercel.app",
      deploymentId: "dpl_other",
      accountId: "team_someoneElse",
    });
    const taken = await providerErrorOf(deployer.publish(id, "taken-1234"));
    expect(taken.kind).toBe("conflict");
    expect(taken.message).toContain("in use by another account");
    expect((await providerErrorOf(deployer.publish("dpl_missing00000000", "gone-1234"))).kind).toBe(
      "not_found",
    );
  });
});

describe("vercel Deployer failures", () => {
  const once = (method: string, match: string, reply: FakeReply): FakeInterceptor => {
    return (request) => (request.method === method && request.path.includes(match) ? reply : undefined);
  };
  const deployInput = {
    name: "faults",
    source: gitSource(),
    env: { DATABASE_URL: `mysql://u:${dbPassword}@h/db` },
  };

  it("maps a refused token to auth with what to do", async () => {
    const error = await providerErrorOf(makeDeployer({ token: "vcp_WRONGtoken" }).deploy(deployInput));
    expect(error).toMatchObject({ vendor: "vercel", kind: "auth", status: 403, retryable: false });
    expect(error.message).toMatch(/vercel\.com\/account\/tokens/);
  });

  it("maps a team the token cannot use to forbidden, naming the team", async () => {
    const error = await providerErrorOf(makeDeployer({ teamId: "team_notMine" }).getDeployment("dpl_abc"));
    expect(error).toMatchObject({ kind: "forbidden", status: 403 });
    expect(error.message).toContain("team_notMine");
  });

  it("maps an unknown project to not_found, naming the project id", async () => {
    const error = await providerErrorOf(makeDeployer({ projectId: "prj_missing" }).deploy(deployInput));
    expect(error).toMatchObject({ kind: "not_found", status: 404 });
    expect(error.message).toContain("prj_missing");
  });

  it("maps a git source Vercel cannot use to invalid with Vercel's reason", async () => {
    const error = await providerErrorOf(
      makeDeployer().deploy({ ...deployInput, source: gitSource(goodSha, "kiln-apps/gone") }),
    );
    expect(error).toMatchObject({ kind: "invalid", status: 400 });
    expect(error.message).toMatch(/incorrect_git_source_info/);
  });

  it("maps 409 and 422 to conflict and invalid", async () => {
    faults.push(
      once("POST", "/v13/deployments", json(409, { error: { code: "conflict", message: "busy" } })),
    );
    expect(await providerErrorOf(makeDeployer().deploy(deployInput))).toMatchObject({ kind: "conflict" });
    faults.push(
      once("POST", "/v13/deployments", json(422, { error: { code: "bad_request", message: "nope" } })),
    );
    expect(await providerErrorOf(makeDeployer().deploy(deployInput))).toMatchObject({ kind: "invalid" });
  });

  it("does not retry a rate-limited create, and reports when to retry", async () => {
    faults.push(once("POST", "/v13/deployments", vercelRateLimited(30)));
    const before = fake.requests.length;
    const error = await providerErrorOf(makeDeployer().deploy(deployInput));
    expect(error).toMatchObject({ kind: "rate_limited", retryable: true, status: 429 });
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(31_000);
    expect(fake.requests.length - before).toBe(1);
  });

  it("retries idempotent reads through a short rate limit and a 5xx", async () => {
    const deployer = makeDeployer();
    const { id } = await deployer.deploy(deployInput);
    faults.push(
      once("GET", id, vercelRateLimited(0)),
      once("GET", id, json(502, { error: { code: "bad_gateway" } })),
    );
    const before = fake.requests.length;
    expect(await deployer.getDeployment(id)).toMatchObject({ id, state: "queued" });
    expect(fake.requests.length - before).toBe(3);
  });

  it("gives up on a persistent outage after a bounded number of attempts", async () => {
    const deployer = makeDeployer();
    const outage = once("GET", "/v13/deployments/dpl_outage", json(503, { error: { code: "unavailable" } }));
    faults.push(outage, outage, outage, outage);
    const before = fake.requests.length;
    const error = await providerErrorOf(deployer.getDeployment("dpl_outage"));
    expect(error).toMatchObject({ kind: "unavailable", retryable: true });
    expect(fake.requests.length - before).toBe(3);
    faults.splice(0);
  });

  it("keeps waiting through an outage until the deployment finishes", async () => {
    const deployer = makeDeployer();
    const { id } = await deployer.deploy(deployInput);
    const down = once("GET", id, json(503, { error: { code: "unavailable" } }));
    faults.push(down, down, down, down);
    expect(await deployer.waitForDeployment(id, { timeoutMs: 5_000 })).toMatchObject({ state: "ready" });
  });

  it("maps a hanging request to timeout and a dropped connection to unavailable", async () => {
    const deployer = makeDeployer({ requestTimeoutMs: 200 });
    faults.push(once("POST", "/v13/deployments", { hang: true }));
    const hung = await providerErrorOf(deployer.deploy(deployInput));
    expect(hung).toMatchObject({ kind: "timeout" });
    faults.push(once("POST", "/v13/deployments", { drop: true }));
    const dropped = await providerErrorOf(deployer.deploy(deployInput));
    expect(dropped).toMatchObject({ kind: "unavailable" });
    expect(dropped.message).toMatch(/Could not reach the Vercel API/);
  });

  it("scrubs the token and env values a vendor message echoes back", async () => {
    faults.push(
      once(
        "POST",
        "/v13/deployments",
        json(400, {
          error: {
            code: "bad_request",
            message: `bad env DATABASE_URL=mysql://u:${dbPassword}@h/db for ${token}`,
          },
        }),
      ),
    );
    const error = await providerErrorOf(makeDeployer().deploy(deployInput));
    expect(error.message).toContain("[redacted]");
  });

  it("rejects answers of an unexpected shape as internal", async () => {
    faults.push(once("POST", "/v13/deployments", json(200, { nothing: "useful" })));
    const shape = await providerErrorOf(makeDeployer().deploy(deployInput));
    expect(shape).toMatchObject({ kind: "internal" });
    expect(shape.message).toMatch(/unexpected shape \(fields: id\)/);
    faults.push(once("POST", "/v13/deployments", { status: 200, text: "<html>proxy</html>" }));
    expect(await providerErrorOf(makeDeployer().deploy(deployInput))).toMatchObject({ kind: "internal" });
  });

  it("says how long it waited when a deployment outlives the deadline", async () => {
    const slow = await startFakeVercelDeployments({
      token,
      projects: [{ id: projectId, name: "kiln-apps", accountId: "usr_fake0000000000000001" }],
      pollsPerState: 1_000,
    });
    try {
      const waits: number[] = [];
      const deployer = makeDeployer({
        apiUrl: slow.url,
        teamId: undefined,
        pollIntervalMs: 20,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((resolve) => setTimeout(resolve, ms));
        },
      });
      const { id } = await deployer.deploy(deployInput);
      const started = Date.now();
      const error = await providerErrorOf(deployer.waitForDeployment(id, { timeoutMs: 300 }));
      // The bound is only against a hang, with room for a loaded machine; the message names the deadline.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error).toMatchObject({ kind: "timeout" });
      expect(error.message).toMatch(/still (queued|building) after 300 ms/);
      // Polled gently: one read per interval, not a busy loop. (How many fit in 300 ms depends on the machine's load.)
      const reads = slow.requests.filter((request) => request.method === "GET").length;
      expect(reads).toBeGreaterThan(1);
      expect(waits).toEqual(Array(reads - 1).fill(20));
    } finally {
      await slow.close();
    }
  });
});
