import { randomBytes } from "node:crypto";
import type http from "node:http";

// Sandboxes reach Kiln's model gateway and webhook at KILN_PUBLIC_URL. When it points elsewhere (the default
// http://localhost:3000 while Kiln listens on another port, say), every build fails in a way that is hard to read
// from inside the sandbox. So Kiln's front (next-server.ts) asks, once it listens, whether KILN_PUBLIC_URL reaches
// this very process: it answers a ping with an id of its own that no other server can know.

/** Answered by Kiln's front itself, before Next.js and without authentication: it says nothing but the id. */
export const pingPath = "/__kiln/ping";
export const instanceHeader = "x-kiln-instance";

/** A per-process id: what tells this server apart from another Kiln (or anything else) answering at the URL. */
export function newInstanceId(): string {
  return randomBytes(16).toString("hex");
}

/** Answers the ping (true) or leaves the request to the rest of the front (false). */
export function answerPing(req: http.IncomingMessage, res: http.ServerResponse, instanceId: string): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if ((req.url ?? "").split("?")[0] !== pingPath) return false;
  res.writeHead(204, { [instanceHeader]: instanceId, "cache-control": "no-store" });
  res.end();
  return true;
}

export type Listening = {
  /** What `-H` gave; undefined: every interface. */
  hostname: string | undefined;
  port: number;
};

const wildcardHosts = new Set(["0.0.0.0", "::", "[::]"]);

/** Where this server is reached on this machine: the host it was bound to, else localhost. */
export function localUrl(listening: Listening): string {
  const host =
    listening.hostname && !wildcardHosts.has(listening.hostname) ? listening.hostname : "localhost";
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${listening.port}`;
}

function portOf(url: URL): number {
  return Number(url.port || (url.protocol === "https:" ? 443 : 80));
}

/** The socket's error behind fetch's "fetch failed" (connect ECONNREFUSED …), or the error's own message. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/**
 * Whether `publicUrl` reaches this server (it answers the ping with `instanceId`). A proxy in front of Kiln on
 * another port is fine as long as it does. Returns a warning for the operator, several lines, or undefined.
 */
export async function checkPublicUrl(input: {
  publicUrl: string;
  listening: Listening;
  instanceId: string;
  timeoutMs?: number;
}): Promise<string | undefined> {
  const { publicUrl, listening } = input;
  let problem: string;
  try {
    const response = await fetch(`${publicUrl}${pingPath}`, {
      redirect: "manual",
      signal: AbortSignal.timeout(input.timeoutMs ?? 5_000),
    });
    await response.arrayBuffer();
    if (response.headers.get(instanceHeader) === input.instanceId) return undefined;
    problem = `something other than this Kiln answers there (HTTP ${response.status})`;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    problem = `nothing answers there (${describeFailure(error)})`;
  }
  const publicPort = portOf(new URL(publicUrl));
  const lines = [
    `KILN_PUBLIC_URL is ${publicUrl}, but ${problem}.`,
    ...(publicPort !== listening.port
      ? [`Kiln listens on port ${listening.port}, while KILN_PUBLIC_URL names port ${publicPort}.`]
      : []),
    "Sandboxes reach Kiln's model gateway and webhook at KILN_PUBLIC_URL: every build will fail until it",
    "reaches this server. Set it to where Kiln is reached, then restart:",
    `    KILN_PUBLIC_URL=${localUrl(listening)}`,
    "(or the address a proxy in front of Kiln serves it at).",
  ];
  return lines.join("\n");
}
