import { describe, expect, it } from "vitest";
import { appEnvInputSchema, appEnvNameProblem } from "@/server/app-env/app-env-rules";
import { createRedactor } from "@/server/events/redact";
import { envNamesNote, withKilnBlock } from "../../src/sandboxes/runner/env-example";
import { fixPrompt, secretRemover } from "../../src/sandboxes/runner/run";

describe("app env names", () => {
  it("accepts POSIX names that Kiln does not set itself", () => {
    for (const name of [
      "STRIPE_SECRET_KEY",
      "_PRIVATE",
      "a",
      "Api_Key_2",
      "NEXT_PUBLIC_SITE_NAME",
      `A${"B".repeat(99)}`,
    ]) {
      expect(appEnvNameProblem(name), name).toBeUndefined();
    }
  });

  it("refuses malformed, too long and reserved names, whatever their case", () => {
    expect(appEnvNameProblem("")).toBe("Give the variable a name.");
    for (const name of ["1ABC", "MY-VAR", "MY VAR", "ÉTÉ", "A=B", "A\u0000"]) {
      expect(appEnvNameProblem(name), name).toMatch(/letters, digits and underscores only/);
    }
    expect(appEnvNameProblem(`A${"B".repeat(100)}`)).toBe("A name has at most 100 characters.");
    for (const name of [
      "DATABASE_URL",
      "database_url",
      "PORT",
      "NODE_ENV",
      "PATH",
      "HOME",
      "NODE_OPTIONS",
      "https_proxy",
    ]) {
      expect(appEnvNameProblem(name), name).toBe(`${name} is set by Kiln itself; choose another name.`);
    }
    for (const name of ["KILN_SECRET_KEY", "kiln_anything", "VERCEL_URL", "npm_config_registry", "LC_ALL"]) {
      expect(appEnvNameProblem(name), name).toMatch(/^Names starting with .* are reserved/);
    }
  });

  it("refuses a secret NEXT_PUBLIC_ variable (it is built into the browser's pages)", () => {
    const parsed = appEnvInputSchema.safeParse({ name: "NEXT_PUBLIC_KEY", value: "x", secret: true });
    expect(parsed.success).toBe(false);
    expect(appEnvInputSchema.safeParse({ name: "NEXT_PUBLIC_KEY", value: "x", secret: false }).success).toBe(
      true,
    );
  });

  it("bounds a value at 32 KB of UTF-8", () => {
    expect(appEnvInputSchema.safeParse({ name: "A", value: "x".repeat(32 * 1024) }).success).toBe(true);
    expect(appEnvInputSchema.safeParse({ name: "A", value: "é".repeat(16 * 1024 + 1) }).success).toBe(false);
  });
});

describe("the .env.example block", () => {
  it("lists names only, after the app's own lines, and is rewritten, not repeated", () => {
    const own = "# The app's own example\nSITE_NAME=My site\n";
    const first = withKilnBlock(own, ["API_TOKEN", "GREETING"]);
    expect(first.startsWith(own)).toBe(true);
    expect(first).toContain("\nAPI_TOKEN=\nGREETING=\n");
    const second = withKilnBlock(first, ["GREETING"]);
    expect(second.startsWith(own)).toBe(true);
    expect(second).not.toContain("API_TOKEN");
    expect(second.match(/>>> Kiln/g)).toHaveLength(1);
    expect(withKilnBlock(second, [])).toBe(own);
  });

  it("creates the file's whole text when there was none, and nothing when there are no variables", () => {
    expect(withKilnBlock("", [])).toBe("");
    const created = withKilnBlock("", ["TOKEN"]);
    expect(created).toMatch(/^# >>> Kiln/);
    expect(withKilnBlock(created, [])).toBe("");
  });

  it("tells the agent the names, not the values", () => {
    expect(envNamesNote([])).toBe("");
    expect(envNamesNote(["API_TOKEN", "GREETING"])).toContain("API_TOKEN, GREETING");
  });
});

describe("redacting a project's secret values", () => {
  it("removes them as printed, URL-encoded and base64-encoded", () => {
    const secret = "s3cret value/with+chars";
    const redact = createRedactor([secret]);
    const printed = `token=${secret} url=${encodeURIComponent(secret)} b64=${Buffer.from(secret).toString("base64")}`;
    const out = redact(printed);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain(Buffer.from(secret).toString("base64"));
    expect(out).toContain("token=[redacted]");
  });
});

describe("the fix prompt the runner hands the agent", () => {
  it("holds no secret value the failing output printed; plain values stay", () => {
    const spec = {
      appEnv: { API_TOKEN: "tok-0123456789abcdef", GREETING: "hello there" },
      appSecretNames: ["API_TOKEN"],
    };
    const prompt = fixPrompt(
      {
        check: { step: "migrate", label: "The database migration (`npm run migrate up`)", args: [] },
        reason: "failed",
        output: "connecting with tok-0123456789abcdef\nhello there\nError: boom",
      },
      secretRemover(spec),
    );
    expect(prompt).not.toContain("tok-0123456789abcdef");
    expect(prompt).toContain("connecting with [redacted]");
    expect(prompt).toContain("hello there");
  });
});
