import { describe, expect, it, vi } from "vitest";

// Work under one key runs one piece at a time even across copies of the module: Next.js bundles a module into each
// route of one server, and a queue per copy would order nothing across them.

async function freshCopy() {
  vi.resetModules();
  return import("@/server/keyed-queue");
}

function recorder() {
  const log: string[] = [];
  const step = (name: string) => async () => {
    log.push(`${name} start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.push(`${name} end`);
    return name;
  };
  return { log, step };
}

describe("keyed queues", () => {
  it("serializes work on one key across two copies of the module, and hands each caller its own result", async () => {
    const first = await freshCopy();
    const second = await freshCopy();
    expect(first.keyedQueue).not.toBe(second.keyedQueue);
    const { log, step } = recorder();
    const results = await Promise.all([
      first.keyedQueue("dirs")("/data/a", step("a")),
      second.keyedQueue("dirs")("/data/a", step("b")),
    ]);
    expect(results).toEqual(["a", "b"]);
    expect(log).toEqual(["a start", "a end", "b start", "b end"]);
  });

  it("lets other keys, and other queues' same key, run alongside", async () => {
    const { keyedQueue } = await freshCopy();
    const { log, step } = recorder();
    await Promise.all([
      keyedQueue("dirs")("/data/a", step("a")),
      keyedQueue("dirs")("/data/b", step("b")),
      keyedQueue("revisions")("/data/a", step("c")),
    ]);
    expect(log.slice(0, 3)).toEqual(["a start", "b start", "c start"]);
  });

  it("runs the next piece after one that failed, and the failure reaches only its caller", async () => {
    const { keyedQueue } = await freshCopy();
    const run = keyedQueue("dirs");
    const failed = run("/data/a", async () => {
      throw new Error("disk full");
    });
    const next = run("/data/a", async () => "ok");
    await expect(failed).rejects.toThrow("disk full");
    await expect(next).resolves.toBe("ok");
  });
});
