import { z } from "zod";
import { ProviderError } from "../provider-error";
import { createTiDBCloudClient, type TiDBCloudClient } from "../tidbcloud/client";
import { inspectOpenedBranch, openMysqlBranchOf, readOpenedTableRows } from "./inspect-branch";
import type { BranchConnection, BranchState, DatabaseBranches, DbBranch, DbRoot } from "./port";
import { assertName, generatePassword, mainBranchName, mainBranchRefused } from "./shared";

/**
 * DatabaseBranches on TiDB Cloud Serverless (API v1beta1).
 *
 * - A root is a cluster; its main branch is the cluster itself (branch id = cluster id, SQL user
 *   `<cluster userPrefix>.root`). Other branches are TiDB branches (copy-on-write, optionally at a point in time
 *   via `parentTimestamp`), each with its own endpoint and `<branch userPrefix>.root` user.
 * - The app connects to the database `test` by default: every TiDB Cloud cluster has it and branches inherit
 *   it, so managing branches needs no SQL connection; only `inspectBranch` opens one, with the app's own URL.
 *   Configurable.
 * - Passwords are generated here (never logged, never read back): `rootPassword` on create; `connect` replaces
 *   them with `PUT /clusters/{id}/password` (the cluster) or `PATCH /clusters/{id}/branches/{branchId}/sqlUsers/
 *   {userPrefix}.root` (a branch).
 * - The URL asks for TLS the way mysql2 understands it: `ssl={"rejectUnauthorized":true}` (TiDB Cloud refuses
 *   plain connections; mysql2 rejects `ssl=true`).
 * - Creation, reset and root creation wait (bounded, gently: one GET per poll interval) until ACTIVE; unknown
 *   states count as not ready. Creates are idempotent by display name.
 */

export type TiDBCloudDatabaseBranchesOptions = {
  publicKey: string;
  privateKey: string;
  /** Labels new clusters with `tidb.cloud/project`; when set, only that project's clusters are reused by name. */
  projectId?: string;
  /** e.g. "aws-us-east-1" (or "regions/aws-us-east-1"). */
  region: string;
  /** Default https://serverless.tidbapi.com/v1beta1. */
  apiUrl?: string;
  fetch?: typeof fetch;
  /** Between state polls; default 3000 ms (the API allows 100 requests/min per key). */
  pollIntervalMs?: number;
  /** How long to wait for ACTIVE; default 10 minutes. */
  pollTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  requestTimeoutMs?: number;
  /** Database name in the app's URL; default "test". */
  database?: string;
};

const portSchema = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);
const endpointsSchema = z
  .object({
    public: z
      .object({ host: z.string().optional(), port: portSchema.optional(), disabled: z.boolean().optional() })
      .optional(),
  })
  .optional();
const clusterSchema = z.object({
  clusterId: z.string().min(1),
  displayName: z.string().optional(),
  state: z.string().optional(),
  userPrefix: z.string().nullish(),
  endpoints: endpointsSchema,
  labels: z.record(z.string(), z.string()).optional(),
});
type Cluster = z.infer<typeof clusterSchema>;
const clusterListSchema = z.object({
  clusters: z.array(clusterSchema).optional(),
  nextPageToken: z.string().optional(),
});
const branchSchema = z.object({
  branchId: z.string().min(1),
  displayName: z.string().optional(),
  clusterId: z.string().optional(),
  parentId: z.string().optional(),
  state: z.string().optional(),
  userPrefix: z.string().nullish(),
  endpoints: endpointsSchema,
});
type Branch = z.infer<typeof branchSchema>;
const branchListSchema = z.object({
  branches: z.array(branchSchema).optional(),
  nextPageToken: z.string().optional(),
});
const anything = z.unknown();

/** Cluster and branch ids go into URL paths: letters, digits, "-" and "_" only. */
const idPattern = /^[A-Za-z0-9_-]{1,128}$/;
const pageSize = 100;
const maxPages = 50;

export function createTiDBCloudDatabaseBranches(options: TiDBCloudDatabaseBranchesOptions): DatabaseBranches {
  const region = options.region.replace(/^regions\//, "");
  if (!/^[a-z0-9-]{2,64}$/.test(region)) {
    throw new ProviderError(
      "tidbcloud",
      "invalid",
      `"${region}" is not a TiDB Cloud region id (e.g. aws-us-east-1).`,
    );
  }
  const database = options.database ?? "test";
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
    throw new ProviderError("tidbcloud", "invalid", "The database name may hold only letters, digits and _.");
  }
  const pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 3000);
  const pollTimeoutMs = options.pollTimeoutMs ?? 600_000;
  const maxPolls = Math.ceil(pollTimeoutMs / pollIntervalMs);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const api: TiDBCloudClient = createTiDBCloudClient({
    publicKey: options.publicKey,
    privateKey: options.privateKey,
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    sleep,
  });

  const checkId = (id: string, what: string) => {
    if (!idPattern.test(id)) {
      throw new ProviderError(
        "tidbcloud",
        "invalid",
        `${JSON.stringify(id.slice(0, 80))} is not a TiDB Cloud ${what} id.`,
      );
    }
    return encodeURIComponent(id);
  };
  const clusterPath = (root: DbRoot) => `/clusters/${checkId(root.id, "cluster")}`;
  const branchPath = (root: DbRoot, branchId: string) =>
    `${clusterPath(root)}/branches/${checkId(branchId, "branch")}`;

  // ---- reads ----------------------------------------------------------------------------------------------

  const getCluster = (clusterId: string) =>
    api.requestOrNull({
      method: "GET",
      path: `/clusters/${checkId(clusterId, "cluster")}`,
      schema: clusterSchema,
      what: "read the cluster",
    });
  const getBranchRecord = (root: DbRoot, branchId: string) =>
    api.requestOrNull({
      method: "GET",
      path: branchPath(root, branchId),
      schema: branchSchema,
      what: "read the branch",
    });

  async function findClusterByName(name: string): Promise<Cluster | undefined> {
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await api.request({
        method: "GET",
        path: "/clusters",
        query: { pageSize, pageToken },
        schema: clusterListSchema,
        what: "list clusters",
      });
      const match = (answer.clusters ?? []).find(
        (cluster) =>
          cluster.displayName === name &&
          cluster.state !== "DELETED" &&
          cluster.state !== "DELETING" &&
          (!options.projectId || cluster.labels?.["tidb.cloud/project"] === options.projectId),
      );
      if (match) return match;
      pageToken = answer.nextPageToken || undefined;
      if (!pageToken) return undefined;
    }
    return undefined;
  }

  async function listBranchRecords(root: DbRoot): Promise<Branch[]> {
    const all: Branch[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await api.request({
        method: "GET",
        path: `${clusterPath(root)}/branches`,
        query: { pageSize, pageToken },
        schema: branchListSchema,
        what: "list branches",
      });
      all.push(...(answer.branches ?? []));
      pageToken = answer.nextPageToken || undefined;
      if (!pageToken) return all;
    }
    throw new ProviderError("tidbcloud", "internal", `Listing branches did not end after ${maxPages} pages.`);
  }

  /** Polls until ACTIVE, gently and for at most pollTimeoutMs; gone or DELETED ends the wait with an error. */
  async function waitUntilActive<T extends { state?: string | undefined }>(
    what: string,
    first: T,
    read: () => Promise<T | null>,
  ): Promise<T> {
    let current = first;
    for (let poll = 0; ; poll++) {
      if (current.state === "ACTIVE") return current;
      if (current.state === "DELETED" || current.state === "DELETING") {
        throw new ProviderError(
          "tidbcloud",
          "not_found",
          `The ${what} was deleted while Kiln waited for it.`,
        );
      }
      if (poll >= maxPolls) {
        throw new ProviderError(
          "tidbcloud",
          "timeout",
          `The ${what} is still ${current.state ?? "in an unknown state"} after ${Math.round(pollTimeoutMs / 1000)} s. TiDB Cloud may still finish it: retry later (creating again with the same name reuses it).`,
        );
      }
      await sleep(pollIntervalMs);
      const next = await read();
      if (!next)
        throw new ProviderError(
          "tidbcloud",
          "not_found",
          `The ${what} disappeared while Kiln waited for it.`,
        );
      current = next;
    }
  }

  // ---- credentials ----------------------------------------------------------------------------------------

  function connectionFor(target: Cluster | Branch, password: string, what: string): BranchConnection {
    const host = target.endpoints?.public?.host;
    if (!host || !target.userPrefix || target.endpoints?.public?.disabled) {
      throw new ProviderError(
        "tidbcloud",
        "internal",
        `The ${what} has no public endpoint or user prefix: enable its public endpoint in the TiDB Cloud console.`,
      );
    }
    const url = new URL(`mysql://${host}:${target.endpoints?.public?.port ?? 4000}`);
    url.username = `${target.userPrefix}.root`;
    url.password = password;
    url.pathname = `/${database}`;
    url.searchParams.set("ssl", JSON.stringify({ rejectUnauthorized: true }));
    return { databaseUrl: url.href, hostPaths: [] };
  }

  async function rotateClusterPassword(cluster: Cluster): Promise<BranchConnection> {
    const password = generatePassword();
    await api.request({
      method: "PUT",
      path: `/clusters/${checkId(cluster.clusterId, "cluster")}/password`,
      body: { password },
      schema: anything,
      what: "set the cluster's root password",
      secrets: [password],
    });
    return connectionFor(cluster, password, "cluster");
  }

  async function rotateBranchPassword(root: DbRoot, branch: Branch): Promise<BranchConnection> {
    if (!branch.userPrefix) {
      throw new ProviderError("tidbcloud", "internal", `Branch ${branch.branchId} has no user prefix yet.`);
    }
    const password = generatePassword();
    await api.request({
      method: "PATCH",
      path: `${branchPath(root, branch.branchId)}/sqlUsers/${encodeURIComponent(`${branch.userPrefix}.root`)}`,
      body: { password },
      schema: anything,
      what: "set the branch's root password",
      secrets: [password],
    });
    return connectionFor(branch, password, "branch");
  }

  // ---- mapping --------------------------------------------------------------------------------------------

  const mainOf = (cluster: Cluster): DbBranch => ({
    id: cluster.clusterId,
    name: mainBranchName,
    parentId: null,
    state: stateOf(cluster.state),
  });
  const toBranch = (root: DbRoot, branch: Branch): DbBranch => ({
    id: branch.branchId,
    name: branch.displayName ?? branch.branchId,
    // A branch made without parentId has the cluster, i.e. the main branch, as its parent.
    parentId: branch.parentId || root.id,
    state: stateOf(branch.state),
  });
  const gone = (state: string | undefined) => state === "DELETED" || state === "DELETING";

  // ---- the port -------------------------------------------------------------------------------------------

  return {
    kind: "tidbcloud",
    supportsPointInTime: true,

    async createRoot(input) {
      const name = assertName("tidbcloud", "root", input.name);
      let cluster = await findClusterByName(name);
      let connection: BranchConnection | undefined;
      if (!cluster) {
        const password = generatePassword();
        const created = await api.request({
          method: "POST",
          path: "/clusters",
          body: {
            displayName: name,
            region: { name: `regions/${region}` },
            ...(options.projectId ? { labels: { "tidb.cloud/project": options.projectId } } : {}),
            rootPassword: password,
          },
          schema: clusterSchema,
          what: "create the cluster",
          secrets: [password],
        });
        cluster = await waitUntilActive("cluster", created, () => getCluster(created.clusterId));
        connection = connectionFor(cluster, password, "cluster");
      } else {
        const found = cluster;
        cluster = await waitUntilActive("cluster", found, () => getCluster(found.clusterId));
        // The password set at creation was never stored: replace it.
        connection = await rotateClusterPassword(cluster);
      }
      return { root: { kind: "tidbcloud", id: cluster.clusterId, name }, main: mainOf(cluster), connection };
    },

    async deleteRoot(root) {
      await api.requestOrNull({
        method: "DELETE",
        path: clusterPath(root),
        schema: anything,
        what: "delete the cluster",
      });
    },

    async createBranch(root, input) {
      const name = assertName("tidbcloud", "branch", input.name);
      const parentId = input.parentId ?? root.id;
      checkId(parentId, "branch");
      const existing = (await listBranchRecords(root)).find(
        (branch) => branch.displayName === name && !gone(branch.state),
      );
      if (existing) {
        if ((existing.parentId || root.id) !== parentId) {
          throw new ProviderError(
            "tidbcloud",
            "conflict",
            `Branch ${name} already exists with parent ${existing.parentId || root.id}, not ${parentId}: choose another name or delete it first.`,
          );
        }
        const ready = await waitUntilActive("branch", existing, () =>
          getBranchRecord(root, existing.branchId),
        );
        return { branch: toBranch(root, ready), connection: await rotateBranchPassword(root, ready) };
      }
      if (parentId !== root.id) {
        const parent = await getBranchRecord(root, parentId);
        if (!parent || gone(parent.state)) {
          throw new ProviderError(
            "tidbcloud",
            "not_found",
            `Parent branch ${parentId} does not exist in cluster ${root.id}: branch from an existing branch.`,
          );
        }
      }
      const password = generatePassword();
      const created = await api.request({
        method: "POST",
        path: `${clusterPath(root)}/branches`,
        body: {
          displayName: name,
          ...(input.parentId ? { parentId: input.parentId } : {}),
          ...(input.atTime ? { parentTimestamp: input.atTime.toISOString() } : {}),
          rootPassword: password,
        },
        schema: branchSchema,
        what: "create the branch",
        secrets: [password],
      });
      const ready = await waitUntilActive("branch", created, () => getBranchRecord(root, created.branchId));
      return { branch: toBranch(root, ready), connection: connectionFor(ready, password, "branch") };
    },

    async getBranch(root, branchId) {
      if (branchId === root.id) {
        const cluster = await getCluster(root.id);
        return cluster && !gone(cluster.state) ? mainOf(cluster) : null;
      }
      const branch = await getBranchRecord(root, branchId);
      return branch && !gone(branch.state) ? toBranch(root, branch) : null;
    },

    async listBranches(root) {
      const cluster = await getCluster(root.id);
      if (!cluster || gone(cluster.state)) {
        throw new ProviderError(
          "tidbcloud",
          "not_found",
          `Cluster ${root.id} does not exist: create the root first.`,
        );
      }
      const branches = (await listBranchRecords(root)).filter((branch) => !gone(branch.state));
      return [mainOf(cluster), ...branches.map((branch) => toBranch(root, branch))];
    },

    async connect(root, branchId) {
      if (branchId === root.id) {
        const cluster = await getCluster(root.id);
        if (!cluster || gone(cluster.state)) {
          throw new ProviderError("tidbcloud", "not_found", `Cluster ${root.id} does not exist.`);
        }
        return rotateClusterPassword(await waitUntilActive("cluster", cluster, () => getCluster(root.id)));
      }
      const branch = await getBranchRecord(root, branchId);
      if (!branch || gone(branch.state)) {
        throw new ProviderError(
          "tidbcloud",
          "not_found",
          `Branch ${branchId} does not exist in cluster ${root.id}.`,
        );
      }
      const ready = await waitUntilActive("branch", branch, () => getBranchRecord(root, branchId));
      return rotateBranchPassword(root, ready);
    },

    async resetBranch(root, branchId) {
      if (branchId === root.id) throw mainBranchRefused("tidbcloud", "reset");
      const reset = await api.requestOrNull({
        method: "POST",
        path: `${branchPath(root, branchId)}:reset`,
        body: {},
        schema: branchSchema,
        what: "reset the branch",
      });
      if (!reset) {
        throw new ProviderError(
          "tidbcloud",
          "not_found",
          `Branch ${branchId} does not exist in cluster ${root.id}.`,
        );
      }
      await waitUntilActive("branch", reset, () => getBranchRecord(root, branchId));
    },

    async deleteBranch(root, branchId) {
      if (branchId === root.id) throw mainBranchRefused("tidbcloud", "delete");
      await api.requestOrNull({
        method: "DELETE",
        path: branchPath(root, branchId),
        schema: anything,
        what: "delete the branch",
      });
    },

    async inspectBranch(connection, inspectOptions) {
      const { kdb, secrets } = openMysqlBranchOf("tidbcloud", connection, [options.privateKey]);
      return inspectOpenedBranch("tidbcloud", kdb, secrets, inspectOptions);
    },

    async readTableRows(connection, request, readOptions) {
      const { kdb, secrets } = openMysqlBranchOf("tidbcloud", connection, [options.privateKey]);
      return readOpenedTableRows("tidbcloud", kdb, secrets, request, readOptions);
    },
  };
}

function stateOf(state: string | undefined): BranchState {
  if (state === "ACTIVE") return "active";
  if (state === "CREATING") return "creating";
  if (state === "RESTORING") return "restoring";
  if (state === "DELETED" || state === "DELETING") return "deleted";
  return "unknown";
}
