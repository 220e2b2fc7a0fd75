import { describe, expect, it } from "vitest";
import { capText, relativeToWorkdir } from "@/agents/event-text";
import { LineSplitter } from "@/sandboxes/runner/line-splitter";

describe("agent output lines", () => {
  it("reassembles lines split across chunks, and returns an unterminated last line at the end", () => {
    const splitter = new LineSplitter();
    expect(splitter.push('{"a":')).toEqual([]);
    expect(splitter.push('1}\n{"b"')).toEqual(['{"a":1}']);
    expect(splitter.push(":2}\n\n{")).toEqual(['{"b":2}', ""]);
    expect(splitter.push('"c":3}')).toEqual([]);
    expect(splitter.end()).toEqual(['{"c":3}']);
    expect(splitter.end()).toEqual([]);
  });

  it("drops a line longer than the bound whole, and carries on with the next one", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push("short\n0123456789")).toEqual(["short"]);
    expect(splitter.push("ABCDEF")).toEqual([]);
    expect(splitter.push("GHI\nnext\n")).toEqual(["next"]);
    expect(splitter.oversized).toBe(1);
  });
});

describe("text caps and paths", () => {
  it("leaves short text alone and cuts long text to exactly the cap", () => {
    expect(capText("hello", 10)).toBe("hello");
    const capped = capText(`${"a".repeat(50)}${"b".repeat(50)}`, 40);
    expect(capped).toHaveLength(40);
    expect(capped.startsWith("aaaa")).toBe(true);
    expect(capped.endsWith("bbbb")).toBe(true);
    expect(capped).toContain("…[truncated]");
  });

  it("makes paths inside the workdir relative and leaves the rest", () => {
    expect(relativeToWorkdir("/w/app/src/x.ts", "/w/app")).toBe("src/x.ts");
    expect(relativeToWorkdir("/w/app/src/x.ts", "/w/app/")).toBe("src/x.ts");
    expect(relativeToWorkdir("/w/app", "/w/app")).toBe(".");
    expect(relativeToWorkdir("/w/apple/x.ts", "/w/app")).toBe("/w/apple/x.ts");
    expect(relativeToWorkdir("relative.ts", "/w/app")).toBe("relative.ts");
  });
});
