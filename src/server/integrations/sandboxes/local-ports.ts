import { randomInt } from "node:crypto";
import net from "node:net";
import { ProviderError } from "../provider-error";
import { errnoOf, localSandboxError } from "./local-errors";

/**
 * Host ports for a local sandbox's declared ports. Local sandboxes share the host network (previews must be
 * reachable), so each declared port gets a host port that is free right now and not promised to another live
 * sandbox. The default range sits above Linux's ephemeral range (32768–60999), so the kernel never hands these
 * ports out as source ports of outgoing connections between allocation and the preview's listen().
 */
export const defaultPortRange: [number, number] = [61000, 64999];

async function isFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve, reject) => {
    server.once("error", (error) => {
      const code = errnoOf(error);
      if (code === "EADDRINUSE" || code === "EACCES") resolve(false);
      else reject(localSandboxError(`checking whether port ${port} is free`, error));
    });
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

export async function allocatePorts(
  declared: number[],
  range: [number, number],
  reserved: ReadonlySet<number>,
): Promise<Record<string, number>> {
  const [low, high] = range;
  const size = high - low + 1;
  const taken = new Set(reserved);
  const result: Record<string, number> = {};
  for (const port of declared) {
    let found: number | undefined;
    const start = randomInt(size);
    for (let step = 0; step < size && found === undefined; step++) {
      const candidate = low + ((start + step) % size);
      if (taken.has(candidate)) continue;
      if (await isFree(candidate)) found = candidate;
    }
    if (found === undefined) {
      throw new ProviderError(
        "local-sandbox",
        "unavailable",
        `Local sandbox: no free host port in ${low}-${high} for declared port ${port}; stop idle sandboxes or widen portRange.`,
      );
    }
    taken.add(found);
    result[String(port)] = found;
  }
  return result;
}
