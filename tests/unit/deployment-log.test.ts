import { describe, expect, it } from "vitest";
import { BoundedLog, boundedLogOf, secretsOfEnv } from "@/server/integrations/deployer/deployment-log";

// A deployment's log (GET /api/v1/revisions/:id/deployment): what the operator reads of `npm ci`, `npm run build`
// and `npm run start`. It must never show the env values the deployment was given, however the output is chunked,
// and it must stay bounded however much the app prints.

const databaseUrl = "mysql://app_user:s3cr3t-Pa55word@127.0.0.1:3306/kiln_branch_42";
const secrets = secretsOfEnv({ DATABASE_URL: databaseUrl });

function text(log: BoundedLog): string {
  return log.snapshot().lines.join("\n");
}

describe("deployment log", () => {
  it("redacts the DATABASE_URL, its password alone and its URL-encoded form", () => {
    const log = new BoundedLog({ secrets });
    log.append("stdout", `connecting to ${databaseUrl}\n`);
    log.append("stderr", "Access denied for password s3cr3t-Pa55word\n");
    log.append("stdout", `redirect=${encodeURIComponent(databaseUrl)}\n`);
    log.end();
    const shown = text(log);
    expect(shown).not.toContain("s3cr3t-Pa55word");
    expect(shown).not.toContain(encodeURIComponent(databaseUrl));
    expect(shown).toContain("connecting to [redacted]");
    expect(shown).toContain("Access denied for password [redacted]");
  });

  it("redacts a secret split across output chunks, and shows no half line before it ends", () => {
    const log = new BoundedLog({ secrets });
    const line = `DATABASE_URL=${databaseUrl} ready\n`;
    const cut = line.indexOf("Pa55") + 2;
    log.append("stdout", line.slice(0, cut));
    // Until its newline the line is open: nothing of it (half a secret) is shown.
    expect(log.snapshot().lines).toEqual([]);
    log.append("stdout", line.slice(cut));
    expect(log.snapshot().lines).toEqual(["DATABASE_URL=[redacted] ready"]);
  });

  it("keeps stdout's and stderr's open lines apart", () => {
    const log = new BoundedLog({ secrets: [] });
    log.append("stdout", "compiled ");
    log.append("stderr", "warn: slow\n");
    log.append("stdout", "successfully\n");
    expect(log.snapshot().lines).toEqual(["warn: slow", "compiled successfully"]);
  });

  it("strips colours and blank lines, and shows a last line without a newline once the commands end", () => {
    const log = new BoundedLog({ secrets: [] });
    log.note("$ npm run build");
    log.append("stdout", "\u001b[32m✓ Compiled\u001b[0m\r\n\n  \nRoute (app)");
    log.end();
    expect(log.snapshot()).toEqual({
      lines: ["$ npm run build", "✓ Compiled", "Route (app)"],
      truncated: false,
    });
  });

  it("drops the oldest lines past its size and says so", () => {
    const log = new BoundedLog({ secrets: [], maxBytes: 1_000 });
    for (let i = 0; i < 500; i++) log.append("stdout", `line ${i}\n`);
    const { lines, truncated } = log.snapshot();
    expect(truncated).toBe(true);
    expect(lines.at(-1)).toBe("line 499");
    expect(lines).not.toContain("line 0");
    expect(lines.join("").length).toBeLessThanOrEqual(1_000);
  });

  it("cuts an endless line and redacts it first, even with no newline for megabytes", () => {
    const log = new BoundedLog({ secrets, maxLineLength: 100 });
    log.append("stdout", `${databaseUrl}${"x".repeat(70_000)}`);
    log.append("stdout", `${databaseUrl}${"y".repeat(10)}\nnext line\n`);
    log.end();
    const { lines } = log.snapshot();
    expect(lines).toEqual([`[redacted]${"x".repeat(90)}…`, "next line"]);
  });

  it("bounds and redacts lines read from a vendor the same way", () => {
    const log = boundedLogOf([`Using ${databaseUrl}`, "Build completed"], secrets);
    expect(log).toEqual({ lines: ["Using [redacted]", "Build completed"], truncated: false });
  });

  it("redacts any URL's password, even one it was not told of", () => {
    const log = boundedLogOf(["postgres://someone:hunter2hunter2@db.example.com/app"], []);
    expect(log.lines).toEqual(["postgres://someone:[redacted]@db.example.com/app"]);
  });
});
