import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { asProcessEnv } from "@/server/process-env";
import { ProviderError } from "../provider-error";
import { createEgressProxy, type EgressDoor, type EgressPolicy } from "./local-egress-proxy";
import { errnoOf, localSandboxError } from "./local-errors";
import { type SandboxUser, sandboxIdEnv } from "./local-isolation";
import { killPid } from "./local-process";
import { markedPids } from "./local-sweep";

/**
 * A local sandbox's own network namespace (`/run/netns/kiln-<id>`, only `lo`), shared by all its commands so a
 * preview started by one is reachable by the next. Nothing in it routes anywhere; three kinds of forwarder, each a
 * socat inside the namespace (as the sandbox's uid) joined to a Unix socket under `<sandbox>/net/` (which no
 * sandbox mount shows), are its only links:
 * - egress: `127.0.0.1:<egressPort>` → the platform's egress proxy (local-egress-proxy.ts);
 * - database: a MySQL branch's `host:port`, the same address inside → that one server;
 * - inbound: the platform listens on host `127.0.0.1:<hostPort>` for each declared port and forwards into the
 *   namespace's `127.0.0.1:<hostPort>`, so `url(port)` still means a host loopback URL.
 * The platform-side ends live in this process and are re-opened by `get()` after a restart. Needs root (named
 * namespaces, nsenter).
 */

/** Inside every sandbox: where the egress proxy answers (HTTP(S)_PROXY, and the door to the platform). */
export const egressPort = 3128;

export type NetworkTools = { ip: string; nsenter: string; setpriv: string; socat: string };

export type SandboxNetworkSpec = {
  id: string;
  /** `<sandbox dir>/net`: the Unix sockets; owned by the sandbox uid, outside every sandbox mount. */
  dir: string;
  owner: SandboxUser;
  /** Host ports of the declared ports (the app listens on the same number inside). */
  ports: number[];
  /** Host TCP endpoints reachable inside at the same address (a MySQL branch's server). */
  tcp: Array<{ host: string; port: number }>;
  door: EgressDoor;
};

type LiveNetwork = {
  /** Settles once the namespace, proxy and forwarders are up (or failed and were closed again). */
  ready: Promise<void>;
  servers: net.Server[];
  /** Cut the connections still open when the sandbox stops. */
  cuts: Array<() => void>;
  forwarders: number[];
  door: EgressDoor;
};

/**
 * Per platform process, not per adapter instance or module copy: several adapters may hold handles to one sandbox,
 * and a Next.js server bundles this module more than once (the route that started a build, the webhook route that
 * starts its preview). A second copy opening the network again would kill the first one's forwarders and find its
 * host ports taken, so the registry lives on globalThis, like the database pool.
 */
const holder = globalThis as typeof globalThis & { __kilnSandboxNetworks?: Map<string, LiveNetwork> };
holder.__kilnSandboxNetworks ??= new Map<string, LiveNetwork>();
const live = holder.__kilnSandboxNetworks;

export function netnsName(id: string): string {
  return `kiln-${id}`;
}

export function netnsPath(id: string): string {
  return `/run/netns/${netnsName(id)}`;
}

const forwarderEnv = "KILN_SANDBOX_FORWARDER";

async function runTool(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"], env: asProcessEnv({}) });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

async function netnsExists(id: string): Promise<boolean> {
  try {
    await fs.access(netnsPath(id));
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw localSandboxError(`checking ${netnsPath(id)}`, error);
  }
}

async function createNetns(tools: NetworkTools, spec: SandboxNetworkSpec): Promise<void> {
  if (await netnsExists(spec.id)) return;
  const steps: string[][] = [
    ["netns", "add", netnsName(spec.id)],
    ["-n", netnsName(spec.id), "link", "set", "lo", "up"],
  ];
  // A database server elsewhere than loopback keeps its address inside: it lives on `lo`, leading to the forwarder.
  for (const endpoint of spec.tcp) {
    if (net.isIPv4(endpoint.host) && !endpoint.host.startsWith("127.")) {
      steps.push(["-n", netnsName(spec.id), "addr", "add", `${endpoint.host}/32`, "dev", "lo"]);
    }
  }
  for (const args of steps) {
    const result = await runTool(tools.ip, args);
    if (result.code !== 0) {
      throw new ProviderError(
        "local-sandbox",
        "unavailable",
        `Local sandbox: could not set up its network namespace (ip ${args.join(" ")}): ${result.stderr.trim()}`,
      );
    }
  }
}

async function deleteNetns(tools: NetworkTools, id: string): Promise<void> {
  if (!(await netnsExists(id))) return;
  const result = await runTool(tools.ip, ["netns", "del", netnsName(id)]);
  if (result.code !== 0 && (await netnsExists(id))) {
    throw localSandboxError(`removing network namespace ${netnsName(id)}`, new Error(result.stderr.trim()));
  }
}

/** A socat inside the namespace, as the sandbox's uid, marked so `stop()` finds it after a restart too. */
function startForwarder(tools: NetworkTools, spec: SandboxNetworkSpec, socatArgs: string[]): number {
  const child = spawn(
    tools.nsenter,
    [
      `--net=${netnsPath(spec.id)}`,
      "--",
      tools.setpriv,
      `--reuid=${spec.owner.uid}`,
      `--regid=${spec.owner.gid}`,
      "--clear-groups",
      "--",
      tools.socat,
      ...socatArgs,
    ],
    {
      detached: true,
      stdio: "ignore",
      env: asProcessEnv({ [forwarderEnv]: "1", [sandboxIdEnv]: spec.id }),
    },
  );
  child.once("error", () => undefined);
  child.unref();
  if (child.pid === undefined) throw localSandboxError("starting a network forwarder", new Error("no pid"));
  return child.pid;
}

function listenUnix(server: net.Server, file: string, owner: SandboxUser): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(file, () => {
      server.off("error", reject);
      // The forwarder inside runs as the sandbox uid; nobody else may connect.
      fs.chown(file, owner.uid, owner.gid)
        .then(() => fs.chmod(file, 0o600))
        .then(resolve, reject);
    });
  });
}

function listenTcp(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** A TCP/Unix relay whose open connections close with it (a keep-alive preview socket must not pin it). */
function pipeTo(connect: () => net.Socket): { server: net.Server; cut: () => void } {
  const open = new Set<net.Socket>();
  const server = net.createServer((incoming) => {
    open.add(incoming);
    incoming.once("close", () => open.delete(incoming));
    const outgoing = connect();
    outgoing.once("error", () => incoming.destroy());
    incoming.once("error", () => outgoing.destroy());
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  });
  const cut = () => {
    for (const socket of open) socket.destroy();
  };
  return { server, cut };
}

/** Waits (bounded) until the forwarders created their sockets: a preview's first health check may come at once. */
async function waitForSockets(files: string[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const present = await Promise.all(
      files.map((file) =>
        fs.access(file).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (present.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw localSandboxError("starting the network forwarders", new Error("their sockets did not appear"));
}

/**
 * Sets up (or, after a platform restart, re-opens) the sandbox's network: namespace, egress proxy, forwarders.
 * Idempotent within one platform process.
 */
export async function openSandboxNetwork(
  tools: NetworkTools,
  policy: EgressPolicy,
  spec: SandboxNetworkSpec,
): Promise<EgressDoor> {
  const existing = live.get(spec.id);
  if (existing) {
    await existing.ready;
    return existing.door;
  }
  const door: EgressDoor = { ...spec.door };
  let settle: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    settle = resolve;
  });
  // Registered before the first await, so a concurrent caller waits for this setup instead of starting another.
  const state: LiveNetwork = { ready, servers: [], cuts: [], forwarders: [], door };
  live.set(spec.id, state);
  try {
    // Forwarders of an earlier platform process point at sockets nobody serves any more.
    for (const pid of await markedPids(spec.id)) killPid(pid, "SIGKILL");
    await createNetns(tools, spec);
    await fs.mkdir(spec.dir, { recursive: true, mode: 0o700 });
    await fs.chown(spec.dir, spec.owner.uid, spec.owner.gid);
    const egressSocket = path.join(spec.dir, "egress.sock");
    await fs.rm(egressSocket, { force: true });
    const proxy = createEgressProxy(policy, door);
    state.servers.push(proxy);
    state.cuts.push(() => proxy.closeAllConnections());
    await listenUnix(proxy, egressSocket, spec.owner);
    state.forwarders.push(
      startForwarder(tools, spec, [
        `TCP-LISTEN:${egressPort},bind=127.0.0.1,fork,reuseaddr`,
        `UNIX-CONNECT:${egressSocket}`,
      ]),
    );
    for (const [index, endpoint] of spec.tcp.entries()) {
      const socket = path.join(spec.dir, `tcp-${index}.sock`);
      await fs.rm(socket, { force: true });
      const { server, cut } = pipeTo(() => net.connect({ host: endpoint.host, port: endpoint.port }));
      state.servers.push(server);
      state.cuts.push(cut);
      await listenUnix(server, socket, spec.owner);
      state.forwarders.push(
        startForwarder(tools, spec, [
          `TCP-LISTEN:${endpoint.port},bind=${endpoint.host},fork,reuseaddr`,
          `UNIX-CONNECT:${socket}`,
        ]),
      );
    }
    const inbound: string[] = [];
    for (const port of spec.ports) {
      const socket = path.join(spec.dir, `in-${port}.sock`);
      await fs.rm(socket, { force: true });
      inbound.push(socket);
      state.forwarders.push(
        startForwarder(tools, spec, [`UNIX-LISTEN:${socket},fork,mode=600`, `TCP:127.0.0.1:${port}`]),
      );
      const { server, cut } = pipeTo(() => net.connect({ path: socket }));
      state.servers.push(server);
      state.cuts.push(cut);
      await listenTcp(server, port);
    }
    await waitForSockets(inbound);
  } catch (error) {
    await closeSandboxNetwork(tools, spec.id);
    throw localSandboxError("setting up the sandbox's network", error);
  } finally {
    settle();
  }
  return door;
}

/** Closes what this process serves for the sandbox, kills its forwarders and removes its namespace. */
export async function closeSandboxNetwork(tools: NetworkTools, id: string): Promise<void> {
  const state = live.get(id);
  live.delete(id);
  if (state) {
    for (const pid of state.forwarders) killPid(pid, "SIGKILL");
    // close() stops listening at once; connections still open are cut rather than awaited.
    for (const server of state.servers) server.close();
    for (const cut of state.cuts) cut();
  }
  await deleteNetns(tools, id);
}

/** Opens the sandbox's door: to `target`, for the gateway and `/hooks/v1/sandboxes/<webhookId>`. */
export function openDoor(id: string, door: EgressDoor): void {
  const state = live.get(id);
  if (state) Object.assign(state.door, door);
}

/** Whether this process serves the sandbox's network (for tests and `stop()`). */
export function hasLiveNetwork(id: string): boolean {
  return live.has(id);
}
