import { describe, expect, it, vi } from "vitest";

// Work for one revision runs one piece at a time even across copies of the module: Next.js bundles it into several
// routes of one server, and the revision lease lets that server in twice (issue seen: the commit step ran twice).

async function freshCopy() {
  vi.resetModules();
  return import("@/server/pipeline/revision-lock");
}

describe("the revision lock", () => {
  it("serializes work on one revision across two copies of the module", async () => {
    const first = await freshCopy();
    const second = await freshCopy();
    expect(first.withRevisionLock).not.toBe(second.withRevisionLock);
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push(`${name} end`);
    };
    await Promise.all([
      first.withRevisionLock("rev_1", step("a")),
      second.withRevisionLock("rev_1", step("b")),
    ]);
    expect(log).toEqual(["a start", "a end", "b start", "b end"]);
  });

  it("lets work on other revisions run alongside", async () => {
    const { withRevisionLock } = await freshCopy();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push(`${name} end`);
    };
    await Promise.all([withRevisionLock("rev_1", step("a")), withRevisionLock("rev_2", step("b"))]);
    expect(log.slice(0, 2)).toEqual(["a start", "b start"]);
  });
});
