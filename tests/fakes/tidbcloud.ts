import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  dispatch,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type FakeVendorOptions,
  json,
  route,
  startFakeHttpServer,
} from "./http";

/**
 * TiDB Cloud Serverless API (v1beta1) as documented: HTTP Digest auth (public key = user, private key = password),
 * errors `{code, message, details}` with gRPC codes, 100 requests/min per key (429 + `X-Ratelimit-*`).
 *
 * The digest check below is written independently of the client under test (its own header parsing and
 * hashing) so that a shared mistake cannot make both sides agree.
 *
 * Behind the auth sits an in-memory TiDB Cloud with the documented field names: clusters
 * (`POST/GET/DELETE /clusters…`, `PUT /clusters/{id}/password`) and branches (`POST/GET …/branches`, paging with
 * pageSize/pageToken, `GET/DELETE …/branches/{branchId}`, `POST …/branches/{branchId}:reset`,
 * `PATCH …/branches/{branchId}/sqlUsers/{username}`). New clusters and branches are CREATING and turn ACTIVE after
 * `readyAfterPolls` reads; a reset branch is RESTORING for as long; a deleted one reads as DELETED once, then 404.
 */

export type FakeTiDBAlgorithm = "MD5" | "SHA-256";

export type FakeTiDBCloudOptions = FakeVendorOptions & {
  publicKey: string;
  privateKey: string;
  /** One challenge per algorithm, in this order. Default ["MD5"]. */
  algorithms?: FakeTiDBAlgorithm[];
  /** Spelling of the `algorithm` parameter in challenges, to exercise case-insensitive clients. */
  algorithmCase?: "canonical" | "lower";
  realm?: string;
  /** Treat the first otherwise-valid answer as carrying a stale nonce: 401 with a new nonce and `stale=true`. */
  staleNonceOnce?: boolean;
  /** After this many authenticated requests, answer 429 with rate-limit headers. */
  rateLimitAfter?: number;
  /** Seconds sent in `X-Ratelimit-Reset` with a 429. Default 42. */
  rateLimitResetSeconds?: number;
  /** Clusters that exist from the start (raw API objects; ACTIVE unless they say otherwise). */
  clusters?: Array<Record<string, unknown>>;
  /** Reads of a CREATING/RESTORING resource before it turns ACTIVE. Default 1. */
  readyAfterPolls?: number;
};

export type FakeTiDBResource = Record<string, unknown> & { state: string };

export type FakeTiDBCloudServer = FakeServer & {
  /** Authenticated requests that passed digest verification. */
  authenticatedCount(): number;
  /** Reasons the fake refused Authorization headers, for diagnosing a failing test. */
  rejections: string[];
  /** Expires every nonce issued so far: a correct answer with one of them gets 401 with `stale=true`. */
  expireNonces(): void;
  /** Answers the next `count` authenticated requests with 429 (reset after `resetSeconds`). */
  rateLimitNext(count: number, resetSeconds?: number): void;
  /** The stored API object of a cluster, as GET would show it (without advancing its state). */
  cluster(clusterId: string): FakeTiDBResource | undefined;
  branch(clusterId: string, branchId: string): FakeTiDBResource | undefined;
  /** The root password TiDB Cloud holds for a cluster (branchId omitted) or a branch. */
  passwordOf(clusterId: string, branchId?: string): string | undefined;
  /** Branch create bodies as received, for asserting the documented request shape. */
  createdBranchBodies: Array<Record<string, unknown>>;
  createdClusterBodies: Array<Record<string, unknown>>;
};

type IssuedNonce = { algorithm: FakeTiDBAlgorithm; opaque: string; lastNc: number };

const gRpc = {
  invalidArgument: 3,
  notFound: 5,
  alreadyExists: 6,
  resourceExhausted: 8,
  failedPrecondition: 9,
  unauthenticated: 16,
} as const;
/** The code the API documents for its 429 answer. */
const rateLimitCode = 49900007;

function tidbError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string | string[]> = {},
) {
  return json(status, { code, message, details: [] }, headers);
}

function parseAuthorization(header: string): Map<string, string> | undefined {
  const match = /^Digest\s+(.*)$/is.exec(header);
  if (!match?.[1]) return undefined;
  const fields = new Map<string, string>();
  const pattern = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const part of match[1].matchAll(pattern)) {
    const [, name, quoted, bare] = part;
    if (name)
      fields.set(name.toLowerCase(), quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? ""));
  }
  return fields;
}

function digestHex(algorithm: FakeTiDBAlgorithm, value: string): string {
  return createHash(algorithm === "MD5" ? "md5" : "sha256")
    .update(value)
    .digest("hex");
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startFakeTiDBCloud(options: FakeTiDBCloudOptions): Promise<FakeTiDBCloudServer> {
  const realm = options.realm ?? "tidb.cloud";
  const algorithms = options.algorithms ?? ["MD5"];
  const readyAfterPolls = options.readyAfterPolls ?? 1;
  const seeded = options.clusters ?? [
    {
      clusterId: "10000000000000000001",
      displayName: "kiln-dev",
      state: "ACTIVE",
      region: { name: "regions/aws-us-east-1" },
      userPrefix: "4Tx9AbC",
      endpoints: { public: { host: "gateway01.us-east-1.prod.aws.tidbcloud.com", port: 4000 } },
      labels: { "tidb.cloud/project": "1372813089454000000" },
    },
  ];
  const nonces = new Map<string, IssuedNonce>();
  const rejections: string[] = [];
  let authenticated = 0;
  let staleUsed = false;
  const expired = new Set<string>();

  const challenge = (stale: boolean): FakeReply => {
    const values = algorithms.map((algorithm) => {
      const nonce = randomBytes(18).toString("base64");
      const opaque = randomBytes(12).toString("hex");
      nonces.set(nonce, { algorithm, opaque, lastNc: 0 });
      const spelled = options.algorithmCase === "lower" ? algorithm.toLowerCase() : algorithm;
      return `Digest realm="${realm}", qop="auth", nonce="${nonce}", opaque="${opaque}", algorithm=${spelled}${stale ? ", stale=true" : ""}`;
    });
    return tidbError(401, gRpc.unauthenticated, "Unauthenticated", { "www-authenticate": values });
  };

  const refuse = (reason: string) => {
    rejections.push(reason);
    return challenge(false);
  };

  /** Returns undefined when the request is authenticated, or the reply to send instead. */
  const authenticate = (request: FakeRequest): FakeReply | undefined => {
    const header = request.header("authorization");
    if (!header) return challenge(false);
    const fields = parseAuthorization(header);
    if (!fields) return refuse("not a Digest authorization");
    const nonce = fields.get("nonce") ?? "";
    const issued = nonces.get(nonce);
    if (!issued) return refuse("unknown nonce");
    if (fields.get("username") !== options.publicKey) return refuse("wrong username");
    if (fields.get("realm") !== realm) return refuse("wrong realm");
    if (fields.get("uri") !== request.path) return refuse(`uri ${fields.get("uri")} is not ${request.path}`);
    if (fields.get("opaque") !== issued.opaque) return refuse("wrong opaque");
    if (fields.get("algorithm")?.toUpperCase() !== issued.algorithm)
      return refuse("algorithm differs from challenge");
    if (fields.get("qop") !== "auth") return refuse("qop is not auth");
    const ncText = fields.get("nc") ?? "";
    if (!/^[0-9a-f]{8}$/i.test(ncText)) return refuse("malformed nc");
    const nc = Number.parseInt(ncText, 16);
    if (nc <= issued.lastNc) return refuse(`replayed nc ${ncText}`);
    const cnonce = fields.get("cnonce");
    if (!cnonce) return refuse("missing cnonce");
    const ha1 = digestHex(issued.algorithm, `${options.publicKey}:${realm}:${options.privateKey}`);
    const ha2 = digestHex(issued.algorithm, `${request.method}:${request.path}`);
    const expected = digestHex(issued.algorithm, `${ha1}:${nonce}:${ncText}:${cnonce}:auth:${ha2}`);
    if (!sameText(fields.get("response") ?? "", expected)) return refuse("wrong response hash");
    issued.lastNc = nc;
    if (expired.has(nonce)) return challenge(true);
    if (options.staleNonceOnce && !staleUsed) {
      staleUsed = true;
      expired.add(nonce);
      return challenge(true);
    }
    return undefined;
  };

  const world = createWorld(seeded, readyAfterPolls);
  let forcedRateLimits = 0;
  let forcedResetSeconds = options.rateLimitResetSeconds ?? 42;

  const routes = [...(options.routes ?? []), ...world.routes];

  const server = await startFakeHttpServer(async (request) => {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const refused = authenticate(request);
    if (refused) return refused;
    authenticated += 1;
    const overLimit = options.rateLimitAfter !== undefined && authenticated > options.rateLimitAfter;
    if (overLimit || forcedRateLimits > 0) {
      if (!overLimit) forcedRateLimits -= 1;
      return tidbError(
        429,
        rateLimitCode,
        "The request exceeded the limit of 100 times per apikey per minute. For more quota, please contact us: https://support.pingcap.com/hc/en-us/requests/new?ticket_form_id=7800003722519",
        {
          "x-ratelimit-limit-minute": "100",
          "x-ratelimit-remaining-minute": "0",
          "x-ratelimit-reset": String(overLimit ? (options.rateLimitResetSeconds ?? 42) : forcedResetSeconds),
        },
      );
    }
    const reply = (await dispatch(routes, request)) ?? tidbError(404, gRpc.notFound, "Not Found");
    if (!("status" in reply)) return reply;
    // Every answer carries the documented limit headers.
    return {
      ...reply,
      headers: {
        "x-ratelimit-limit-minute": "100",
        "x-ratelimit-remaining-minute": String(Math.max(0, 100 - authenticated)),
        ...reply.headers,
      },
    };
  });
  return {
    ...server,
    authenticatedCount: () => authenticated,
    rejections,
    expireNonces() {
      for (const nonce of nonces.keys()) expired.add(nonce);
    },
    rateLimitNext(count, resetSeconds) {
      forcedRateLimits = count;
      if (resetSeconds !== undefined) forcedResetSeconds = resetSeconds;
    },
    cluster: (clusterId) => world.peekCluster(clusterId),
    branch: (clusterId, branchId) => world.peekBranch(clusterId, branchId),
    passwordOf: (clusterId, branchId) => world.passwordOf(clusterId, branchId),
    createdBranchBodies: world.createdBranchBodies,
    createdClusterBodies: world.createdClusterBodies,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The in-memory TiDB Cloud behind the auth.

type Stored = {
  object: FakeTiDBResource;
  /** Deleted and already shown as DELETED: kept only so that page tokens (positions) stay stable. */
  gone?: boolean;
  /** Reads left before a CREATING/RESTORING resource turns ACTIVE. */
  pendingReads: number;
  password: string | undefined;
  /** Set once deleted: the next read shows DELETED, later ones 404. */
  deletedReadsLeft?: number;
};
type StoredCluster = Stored & { branches: Map<string, Stored> };

const base32 = "abcdefghijklmnopqrstuvwxyz234567";
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomFrom(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet.charAt(byte % alphabet.length)).join("");
}

function bodyOf(request: FakeRequest): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(request.body || "{}");
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? Object.fromEntries(Object.entries(parsed))
      : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value))
    : undefined;
}

function isValidPassword(value: unknown): boolean {
  return typeof value === "string" && value.length >= 8 && value.length <= 64;
}

function pageOf<T>(items: T[], url: URL): { page: T[]; nextPageToken: string } | FakeReply {
  const sizeText = url.searchParams.get("pageSize");
  const pageSize = sizeText === null ? 10 : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1)
    return tidbError(400, gRpc.invalidArgument, "invalid pageSize");
  const size = Math.min(pageSize, 100);
  const token = url.searchParams.get("pageToken") ?? "";
  const offset = token === "" ? 0 : Number(Buffer.from(token, "base64url").toString("utf8"));
  if (!Number.isInteger(offset) || offset < 0)
    return tidbError(400, gRpc.invalidArgument, "invalid pageToken");
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(String(offset + size)).toString("base64url") : "";
  return { page, nextPageToken: next };
}

function createWorld(seeded: Array<Record<string, unknown>>, readyAfterPolls: number) {
  const clusters = new Map<string, StoredCluster>();
  const createdBranchBodies: Array<Record<string, unknown>> = [];
  const createdClusterBodies: Array<Record<string, unknown>> = [];
  for (const raw of seeded) {
    const id = String(raw.clusterId);
    clusters.set(id, {
      object: { state: "ACTIVE", ...raw },
      pendingReads: 0,
      password: undefined,
      branches: new Map(),
    });
  }
  const now = () => new Date().toISOString();

  /** A read advances CREATING/RESTORING towards ACTIVE and DELETED towards gone. */
  const read = (stored: Stored, remove: () => void): FakeTiDBResource | undefined => {
    if (stored.gone) return undefined;
    if (stored.deletedReadsLeft !== undefined) {
      if (stored.deletedReadsLeft <= 0) {
        remove();
        return undefined;
      }
      stored.deletedReadsLeft -= 1;
      return stored.object;
    }
    if (stored.object.state === "CREATING" || stored.object.state === "RESTORING") {
      if (stored.pendingReads <= 0) stored.object = { ...stored.object, state: "ACTIVE", updateTime: now() };
      else stored.pendingReads -= 1;
    }
    return stored.object;
  };
  const readCluster = (id: string) => {
    const stored = clusters.get(id);
    return stored
      ? read(stored, () => {
          stored.gone = true;
        })
      : undefined;
  };
  const readBranch = (cluster: StoredCluster, id: string) => {
    const stored = cluster.branches.get(id);
    return stored
      ? read(stored, () => {
          stored.gone = true;
        })
      : undefined;
  };
  const endpointFor = (region: string) => ({
    public: {
      host: `gateway01.${region.replace(/^regions\/(aws-|gcp-)?/, "")}.prod.aws.tidbcloud.com`,
      port: 4000,
      disabled: false,
    },
  });
  const liveCluster = (id: string): StoredCluster | undefined => {
    const stored = clusters.get(id);
    return stored && stored.deletedReadsLeft === undefined ? stored : undefined;
  };
  const liveBranch = (cluster: StoredCluster, id: string): Stored | undefined => {
    const stored = cluster.branches.get(id);
    return stored && stored.deletedReadsLeft === undefined ? stored : undefined;
  };
  const notFound = (what: string) => tidbError(404, gRpc.notFound, `${what} not found`);

  const routes = [
    route("GET", "/clusters", ({ url }) => {
      // Pages are positions in creation order, so a page may hold fewer items than asked ("server may return
      // fewer items than requested"), but a deletion never shifts another item out of the listing.
      const paged = pageOf([...clusters.keys()], url);
      if ("status" in paged || "hang" in paged || "drop" in paged) return paged;
      const page = paged.page.map((id) => readCluster(id)).filter((cluster) => cluster !== undefined);
      const totalSize = [...clusters.values()].filter((stored) => !stored.gone).length;
      return json(200, { clusters: page, nextPageToken: paged.nextPageToken, totalSize });
    }),
    route("POST", "/clusters", (request) => {
      const body = bodyOf(request);
      if (!body) return tidbError(400, gRpc.invalidArgument, "request body is not a JSON object");
      createdClusterBodies.push(body);
      const region = recordOf(body.region)?.name;
      if (
        typeof body.displayName !== "string" ||
        body.displayName.length === 0 ||
        body.displayName.length > 64
      )
        return tidbError(400, gRpc.invalidArgument, "displayName is required (1-64 characters)");
      if (typeof region !== "string" || !region.startsWith("regions/"))
        return tidbError(400, gRpc.invalidArgument, "region.name must look like regions/<region-id>");
      if (body.rootPassword !== undefined && !isValidPassword(body.rootPassword))
        return tidbError(400, gRpc.invalidArgument, "rootPassword must be 8-64 characters");
      const clusterId = `1${randomFrom("0123456789", 18)}`;
      const object: FakeTiDBResource = {
        name: `clusters/${clusterId}`,
        clusterId,
        displayName: body.displayName,
        region: { name: region, displayName: region.slice("regions/".length) },
        labels: recordOf(body.labels) ?? {},
        state: "CREATING",
        createdBy: "apikey-kiln",
        userPrefix: randomFrom(alnum, 15),
        endpoints: endpointFor(region),
        createTime: now(),
        updateTime: now(),
        annotations: {},
      };
      clusters.set(clusterId, {
        object,
        pendingReads: readyAfterPolls,
        password: typeof body.rootPassword === "string" ? body.rootPassword : undefined,
        branches: new Map(),
      });
      return json(200, object);
    }),
    route("GET", "/clusters/:clusterId", ({ params }) => {
      const cluster = readCluster(params.clusterId ?? "");
      return cluster ? json(200, cluster) : notFound("cluster");
    }),
    route("DELETE", "/clusters/:clusterId", ({ params }) => {
      const stored = liveCluster(params.clusterId ?? "");
      if (!stored) return notFound("cluster");
      stored.object = { ...stored.object, state: "DELETED", updateTime: now() };
      stored.deletedReadsLeft = 1;
      return json(200, stored.object);
    }),
    route("PUT", "/clusters/:clusterId/password", (request) => {
      const stored = liveCluster(request.params.clusterId ?? "");
      if (!stored) return notFound("cluster");
      const body = bodyOf(request);
      if (!isValidPassword(body?.password))
        return tidbError(400, gRpc.invalidArgument, "password must be 8-64 characters");
      if (stored.object.state !== "ACTIVE")
        return tidbError(400, gRpc.failedPrecondition, "cluster is not active");
      stored.password = String(body?.password);
      return json(200, {});
    }),
    route("GET", "/clusters/:clusterId/branches", ({ params, url }) => {
      const cluster = liveCluster(params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const paged = pageOf([...cluster.branches.keys()], url);
      if ("status" in paged || "hang" in paged || "drop" in paged) return paged;
      const page = paged.page.map((id) => readBranch(cluster, id)).filter((branch) => branch !== undefined);
      const totalSize = [...cluster.branches.values()].filter((stored) => !stored.gone).length;
      return json(200, { branches: page, nextPageToken: paged.nextPageToken, totalSize });
    }),
    route("POST", "/clusters/:clusterId/branches", (request) => {
      const cluster = liveCluster(request.params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const body = bodyOf(request);
      if (!body) return tidbError(400, gRpc.invalidArgument, "request body is not a JSON object");
      createdBranchBodies.push(body);
      if (
        typeof body.displayName !== "string" ||
        body.displayName.length === 0 ||
        body.displayName.length > 64
      )
        return tidbError(400, gRpc.invalidArgument, "displayName is required (1-64 characters)");
      if (body.rootPassword !== undefined && !isValidPassword(body.rootPassword))
        return tidbError(400, gRpc.invalidArgument, "rootPassword must be 8-64 characters");
      const clusterId = String(cluster.object.clusterId);
      const parentId = body.parentId === undefined ? clusterId : String(body.parentId);
      const parent = parentId === clusterId ? cluster : liveBranch(cluster, parentId);
      if (!parent) return notFound("parent branch");
      if (parent.object.state !== "ACTIVE")
        return tidbError(
          400,
          gRpc.failedPrecondition,
          `parent ${parentId} is ${parent.object.state}, not ACTIVE`,
        );
      let parentTimestamp: string | null = null;
      if (body.parentTimestamp !== undefined) {
        const text = String(body.parentTimestamp);
        const at = Date.parse(text);
        if (
          !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ||
          Number.isNaN(at)
        )
          return tidbError(400, gRpc.invalidArgument, "parentTimestamp must be an RFC 3339 timestamp");
        if (at > Date.now()) return tidbError(400, gRpc.invalidArgument, "parentTimestamp is in the future");
        parentTimestamp = new Date(at).toISOString();
      }
      const branchId = `bran-${randomFrom(base32, 26)}`;
      const object: FakeTiDBResource = {
        name: `clusters/${clusterId}/branches/${branchId}`,
        branchId,
        displayName: body.displayName,
        clusterId,
        parentId,
        createdBy: "apikey-kiln",
        state: "CREATING",
        endpoints: endpointFor(String(recordOf(cluster.object.region)?.name ?? "regions/aws-us-east-1")),
        userPrefix: randomFrom(alnum, 15),
        createTime: now(),
        updateTime: now(),
        annotations: {},
        parentDisplayName: String(parent.object.displayName ?? ""),
        parentTimestamp,
      };
      cluster.branches.set(branchId, {
        object,
        pendingReads: readyAfterPolls,
        password: typeof body.rootPassword === "string" ? body.rootPassword : undefined,
      });
      return json(200, object);
    }),
    route("GET", "/clusters/:clusterId/branches/:branchId", ({ params }) => {
      const cluster = liveCluster(params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const branch = readBranch(cluster, params.branchId ?? "");
      return branch ? json(200, branch) : notFound("branch");
    }),
    route("DELETE", "/clusters/:clusterId/branches/:branchId", ({ params }) => {
      const cluster = liveCluster(params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const stored = liveBranch(cluster, params.branchId ?? "");
      if (!stored) return notFound("branch");
      stored.object = { ...stored.object, state: "DELETED", updateTime: now() };
      stored.deletedReadsLeft = 1;
      return json(200, stored.object);
    }),
    // `POST …/branches/{branchId}:reset`: the verb rides on the last path segment.
    route("POST", "/clusters/:clusterId/branches/:branchVerb", ({ params }) => {
      const [branchId, verb] = (params.branchVerb ?? "").split(":");
      if (verb !== "reset") return tidbError(404, gRpc.notFound, "Not Found");
      const cluster = liveCluster(params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const stored = liveBranch(cluster, branchId ?? "");
      if (!stored) return notFound("branch");
      if (stored.object.state !== "ACTIVE")
        return tidbError(400, gRpc.failedPrecondition, `branch is ${stored.object.state}, not ACTIVE`);
      stored.object = { ...stored.object, state: "RESTORING", updateTime: now() };
      stored.pendingReads = readyAfterPolls;
      return json(200, stored.object);
    }),
    route("PATCH", "/clusters/:clusterId/branches/:branchId/sqlUsers/:username", (request) => {
      const cluster = liveCluster(request.params.clusterId ?? "");
      if (!cluster) return notFound("cluster");
      const stored = liveBranch(cluster, request.params.branchId ?? "");
      if (!stored) return notFound("branch");
      if (request.params.username !== `${String(stored.object.userPrefix)}.root`) return notFound("sql user");
      const body = bodyOf(request);
      if (!isValidPassword(body?.password))
        return tidbError(400, gRpc.invalidArgument, "password must be 8-64 characters");
      if (stored.object.state !== "ACTIVE")
        return tidbError(400, gRpc.failedPrecondition, "branch is not active");
      stored.password = String(body?.password);
      return json(200, { username: request.params.username });
    }),
  ];

  return {
    routes,
    createdBranchBodies,
    createdClusterBodies,
    peekCluster: (id: string) => clusters.get(id)?.object,
    peekBranch: (clusterId: string, branchId: string) =>
      clusters.get(clusterId)?.branches.get(branchId)?.object,
    passwordOf: (clusterId: string, branchId?: string) => {
      const cluster = clusters.get(clusterId);
      return branchId === undefined ? cluster?.password : cluster?.branches.get(branchId)?.password;
    },
  };
}
