import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  DeployCommitInput,
  Deployer,
  DeployInput,
  Deployment,
} from "../../src/server/integrations/deployer/port";
import { ProviderError } from "../../src/server/integrations/provider-error";
import { rejectionOf } from "../helpers/errors";

/**
 * What every Deployer adapter must do, asserted the same way for each. An adapter brings a harness: the deployer,
 * a way to produce sources it can deploy (a pushed commit for Vercel, a directory of files for the local
 * deployer) — one that builds and one whose build fails — a pushed commit for `deployCommit`, and a way to read
 * back the environment and the commit a deployment was given (the vendor's record of it, or what the running app
 * reports).
 */

export type DeployerContractHarness = {
  deployer: Deployer;
  /** A source whose build succeeds and whose app serves. Called once per test that deploys. */
  workingSource(): Promise<DeployInput["source"]>;
  /** A source whose build fails with error output. */
  failingSource(): Promise<DeployInput["source"]>;
  /** The environment the deployment was built and served with. */
  deployedEnv(deployment: Deployment): Promise<Record<string, string>>;
  /** A commit whose build succeeds, pushed to a git host this adapter deploys from. Called once per test. */
  pushedCommit(): Promise<DeployCommitInput["commit"]>;
  /** The commit sha the deployment was built from. */
  deployedCommit(deployment: Deployment): Promise<string>;
  /** Whether a newer deployment retires the ones it replaces (each a server of its own) or keeps them. */
  retiresReplaced: boolean;
  /** Bound for each waitForDeployment of the suite: long enough for a real build of the working source. */
  waitTimeoutMs: number;
  /** An id of this adapter's form that it never issued. Default "dpl_kilnContractNeverIssued01". */
  unknownId?: string;
  close?(): Promise<void>;
};

export type DeployerContractOptions = {
  /** Per-test timeout for suites whose builds are real (the local deployer). Default: vitest's. */
  testTimeoutMs?: number;
};

export function describeDeployerContract(
  label: string,
  makeHarness: () => Promise<DeployerContractHarness>,
  contractOptions: DeployerContractOptions = {},
) {
  describe(`Deployer contract: ${label}`, { timeout: contractOptions.testTimeoutMs }, () => {
    let harness: DeployerContractHarness;
    let deployer: Deployer;
    const created: string[] = [];

    async function deploy(name: string, source: DeployInput["source"], env: Record<string, string>) {
      const deployment = await deployer.deploy({ name, source, env });
      created.push(deployment.id);
      return deployment;
    }

    beforeAll(async () => {
      harness = await makeHarness();
      deployer = harness.deployer;
    });
    afterAll(async () => {
      for (const id of created) await deployer?.remove(id);
      await harness?.close?.();
    });

    it("deploys a source and waits until it is ready, with a URL and its environment", async () => {
      const started = await deploy("contract-ready-1", await harness.workingSource(), {
        KILN_CONTRACT_RUN: "ready",
        DATABASE_URL: "mysql://app:s3cret@db.example:3306/app_rev_1",
      });
      expect(started.id).toEqual(expect.any(String));
      expect(["queued", "building", "ready"]).toContain(started.state);
      expect(started.errorMessage).toBeNull();

      const ready = await deployer.waitForDeployment(started.id, { timeoutMs: harness.waitTimeoutMs });
      expect(ready).toMatchObject({ id: started.id, state: "ready", errorMessage: null });
      expect(ready.url).toMatch(/^https?:\/\/[^/\s]+/);
      expect(await deployer.getDeployment(started.id)).toEqual(ready);
      expect(await harness.deployedEnv(ready)).toMatchObject({
        KILN_CONTRACT_RUN: "ready",
        DATABASE_URL: "mysql://app:s3cret@db.example:3306/app_rev_1",
      });
    });

    it("keeps each of two concurrent deployments' own environment", async () => {
      const [sourceA, sourceB] = await Promise.all([harness.workingSource(), harness.workingSource()]);
      const [a, b] = await Promise.all([
        deploy("contract-env-a", sourceA, { KILN_REVISION: "a", DATABASE_URL: "mysql://db/branch_a" }),
        deploy("contract-env-b", sourceB, { KILN_REVISION: "b", DATABASE_URL: "mysql://db/branch_b" }),
      ]);
      expect(a.id).not.toBe(b.id);
      const [readyA, readyB] = await Promise.all([
        deployer.waitForDeployment(a.id, { timeoutMs: harness.waitTimeoutMs }),
        deployer.waitForDeployment(b.id, { timeoutMs: harness.waitTimeoutMs }),
      ]);
      expect([readyA.state, readyB.state]).toEqual(["ready", "ready"]);
      expect(readyA.url).not.toBe(readyB.url);
      expect(await harness.deployedEnv(readyA)).toMatchObject({
        KILN_REVISION: "a",
        DATABASE_URL: "mysql://db/branch_a",
      });
      expect(await harness.deployedEnv(readyB)).toMatchObject({
        KILN_REVISION: "b",
        DATABASE_URL: "mysql://db/branch_b",
      });
    });

    it("reports a failing build as an error with a readable reason and its error lines", async () => {
      const started = await deploy("contract-fails", await harness.failingSource(), {
        KILN_CONTRACT_RUN: "fail",
      });
      const failed = await deployer.waitForDeployment(started.id, { timeoutMs: harness.waitTimeoutMs });
      expect(failed).toMatchObject({ id: started.id, state: "error", url: null });
      expect(failed.errorMessage).toEqual(expect.stringMatching(/\w{3,}/));

      const lines = await deployer.buildErrors(started.id);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line.trim()).not.toBe("");
        expect(line).not.toContain(String.fromCharCode(27));
      }

      // The deployment's log holds the build's output, oldest line first, without the values it must not show.
      const log = await deployer.deploymentLog(started.id, { secrets: [lines.at(-1) ?? ""] });
      expect(log?.lines.length).toBeGreaterThan(0);
      expect(log?.lines.join("\n")).toContain("[redacted]");
      expect(log?.lines.join("\n")).not.toContain(lines.at(-1));
      for (const line of log?.lines ?? []) expect(line).not.toContain(String.fromCharCode(27));
    });

    it("deploys a pushed commit, built from that commit, with its environment", async () => {
      const commit = await harness.pushedCommit();
      const started = await deployer.deployCommit({
        name: "contract-commit",
        commit,
        env: { KILN_CONTRACT_RUN: "commit", DATABASE_URL: "mysql://app:s3cret@db.example:3306/app_rev_2" },
      });
      created.push(started.id);
      const ready = await deployer.waitForDeployment(started.id, { timeoutMs: harness.waitTimeoutMs });
      expect(ready).toMatchObject({ id: started.id, state: "ready", errorMessage: null });
      expect(await harness.deployedCommit(ready)).toBe(commit.sha);
      expect(await harness.deployedEnv(ready)).toMatchObject({
        KILN_CONTRACT_RUN: "commit",
        DATABASE_URL: "mysql://app:s3cret@db.example:3306/app_rev_2",
      });
    });

    it("retires a replaced deployment where the adapter does, and keeps it serving where it does not", async () => {
      const [older, newer] = await Promise.all([
        deploy("contract-older", await harness.workingSource(), {}),
        deploy("contract-newer", await harness.workingSource(), {}),
      ]);
      const [olderReady] = await Promise.all([
        deployer.waitForDeployment(older.id, { timeoutMs: harness.waitTimeoutMs }),
        deployer.waitForDeployment(newer.id, { timeoutMs: harness.waitTimeoutMs }),
      ]);
      expect(olderReady.state).toBe("ready");
      expect(await deployer.retireReplaced(older.id)).toBe(harness.retiresReplaced);
      if (harness.retiresReplaced) {
        expect(await deployer.getDeployment(older.id)).toBeNull();
      } else {
        expect(await deployer.getDeployment(older.id)).toEqual(olderReady);
      }
      expect(await deployer.getDeployment(newer.id)).toMatchObject({ state: "ready" });
    });

    it("answers null for a deployment it never made", async () => {
      expect(await deployer.getDeployment(harness.unknownId ?? "dpl_kilnContractNeverIssued01")).toBeNull();
      expect(await deployer.deploymentLog(harness.unknownId ?? "dpl_kilnContractNeverIssued01")).toBeNull();
    });

    it("bounds waiting: a deadline that passes mid-build is a timeout ProviderError", async () => {
      const started = await deploy("contract-slow", await harness.workingSource(), {});
      const error = await rejectionOf(deployer.waitForDeployment(started.id, { timeoutMs: 1 }));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: "timeout", retryable: true });
    });

    it("removes idempotently: the deployment is gone and removing again is fine", async () => {
      const started = await deploy("contract-remove", await harness.workingSource(), {});
      await deployer.waitForDeployment(started.id, { timeoutMs: harness.waitTimeoutMs });
      await deployer.remove(started.id);
      expect(await deployer.getDeployment(started.id)).toBeNull();
      await deployer.remove(started.id);
      await deployer.remove(harness.unknownId ?? "dpl_kilnContractNeverIssued01");
      const error = await rejectionOf(
        deployer.waitForDeployment(started.id, { timeoutMs: harness.waitTimeoutMs }),
      );
      expect(error).toMatchObject({ kind: "not_found" });
    });
  });
}
