import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLocalSandboxes } from "../../src/server/integrations/sandboxes/local";
import type { Sandboxes, SandboxHandle } from "../../src/server/integrations/sandboxes/port";
import { type BenchRow, measure } from "./stats";

// Local sandboxes: from create() to the first command's output (what a revision waits for before the agent
// starts), with bubblewrap + cgroups and as plain processes; plus stop().

async function createAndEcho(sandboxes: Sandboxes, i: number): Promise<SandboxHandle> {
  const sandbox = await sandboxes.create({
    name: `bench-${i}`,
    source: { kind: "empty" },
    ports: [3000],
    env: { RUN: String(i) },
    timeoutMs: 60_000,
  });
  const result = await sandbox.run({ cmd: "echo", args: ["ready"] });
  if (result.stdout !== "ready\n") throw new Error(`unexpected output: ${JSON.stringify(result)}`);
  return sandbox;
}

async function benchMode(label: string, bwrapPath: null | undefined): Promise<BenchRow[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-sandboxes-"));
  const sandboxes = createLocalSandboxes({ root, bwrapPath });
  const created: SandboxHandle[] = [];
  try {
    const rows = [
      await measure(
        `[local ${label}] create → first command output`,
        20,
        async (i) => created.push(await createAndEcho(sandboxes, i)),
        { goal: "≤ 300 ms" },
      ),
    ];
    const sandbox = created[0];
    if (sandbox) {
      rows.push(
        await measure(`[local ${label}] run a command in a live sandbox`, 20, () =>
          sandbox.run({ cmd: "true" }),
        ),
      );
    }
    let next = 0;
    rows.push(
      await measure(
        `[local ${label}] stop (kill, sweep, remove cgroups and files)`,
        Math.max(1, created.length - 2),
        () => created[next++]?.stop() ?? Promise.resolve(),
      ),
    );
    return rows;
  } finally {
    await Promise.allSettled(created.map((sandbox) => sandbox.stop()));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  return [...(await benchMode("bubblewrap", undefined)), ...(await benchMode("plain", null))];
}
