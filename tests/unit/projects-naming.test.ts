import { describe, expect, it } from "vitest";
import { provisionalName, slugify } from "@/server/operations/create-project";

describe("slugify", () => {
  it.each([
    ["Build a todo app", "build-a-todo-app"],
    ["  Hello, World!  ", "hello-world"],
    ["Café crème & Brötchen", "cafe-creme-brotchen"],
    ["--already--dashed--", "already-dashed"],
    ["CRM v2.0 (beta)", "crm-v2-0-beta"],
  ])("%j → %j", (text, slug) => {
    expect(slugify(text)).toBe(slug);
  });

  it.each(["!!!", "", "日本語のアプリ", "🔥🔥"])(
    "falls back to 'app' when %j has no usable characters",
    (text) => {
      expect(slugify(text)).toBe("app");
    },
  );

  it("keeps slugs to 48 characters without a trailing dash", () => {
    const slug = slugify(`${"a".repeat(47)} b c d e f`);
    expect(slug).toBe("a".repeat(47));
    const long = slugify("word ".repeat(40));
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });
});

describe("provisionalName", () => {
  it("keeps a short prompt, on one line", () => {
    expect(provisionalName("  A todo app\nwith   tags  ")).toBe("A todo app with tags");
  });

  it("cuts a long prompt at a word boundary and marks the cut", () => {
    const prompt =
      "Build a recipe manager where families share weekly meal plans, shopping lists and pantry stock";
    const name = provisionalName(prompt);
    expect(name).toBe("Build a recipe manager where families share weekly meal…");
    expect(name.length).toBeLessThanOrEqual(61);
  });

  it("cuts a long prompt without spaces at 60 characters", () => {
    const name = provisionalName("x".repeat(100));
    expect(name).toBe(`${"x".repeat(60)}…`);
  });

  it("keeps a prompt of exactly 60 characters whole", () => {
    const prompt = "y".repeat(60);
    expect(provisionalName(prompt)).toBe(prompt);
  });
});
