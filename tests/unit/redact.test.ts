import { describe, expect, it } from "vitest";
import { createRedactor, REDACTED, redactJson } from "@/server/events/redact";

const operatorKey = "op3rator-Key.With+Special$chars(1)";
const redact = createRedactor([operatorKey, "hunter22", "ab"]);

describe("known secrets", () => {
  it("replaces every occurrence of a known value, regex characters included", () => {
    expect(redact(`key=${operatorKey} again:${operatorKey}!`)).toBe(`key=${REDACTED} again:${REDACTED}!`);
  });

  it("replaces the URL-encoded form", () => {
    const encoded = encodeURIComponent(operatorKey);
    expect(encoded).not.toBe(operatorKey);
    expect(redact(`https://x.test/cb?token=${encoded}&a=1`)).toBe(`https://x.test/cb?token=${REDACTED}&a=1`);
  });

  it("replaces the base64 and base64url forms, also inside a larger encoded value at any alignment", () => {
    const whole = Buffer.from(operatorKey).toString("base64");
    expect(redact(`secret: ${whole}`)).not.toContain(whole.slice(0, -2));
    for (const prefix of ["u:", "us:", "usr:"]) {
      const basic = Buffer.from(`${prefix}${operatorKey}`).toString("base64");
      const out = redact(`Authorisation-ish: ${basic}`);
      expect(out, prefix).toContain(REDACTED);
      // What remains cannot be decoded back to the secret.
      expect(Buffer.from(out.replace(REDACTED, ""), "base64").toString("latin1")).not.toContain(operatorKey);
    }
    const url = Buffer.from(`x${operatorKey}`).toString("base64url");
    expect(redact(url)).toContain(REDACTED);
  });

  it("removes the longer of two overlapping secrets whole", () => {
    const r = createRedactor(["abcd1234", "abcd1234-and-more"]);
    expect(r("v=abcd1234-and-more;")).toBe(`v=${REDACTED};`);
  });

  it("redacts short secrets verbatim but ignores values too short to be secrets", () => {
    expect(redact("the password is hunter22.")).toBe(`the password is ${REDACTED}.`);
    expect(redact("about a cab")).toBe("about a cab");
    expect(createRedactor(["", "   "])("plain text")).toBe("plain text");
  });
});

describe("token shapes", () => {
  const planted: Array<[string, string]> = [
    ["OpenAI", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789"],
    ["OpenAI legacy", "sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345"],
    ["Anthropic", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx-_0123456789"],
    ["GitHub PAT", "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"],
    ["GitHub OAuth", "gho_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"],
    ["GitHub fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"],
    ["Slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"],
    ["AWS", "AKIAIOSFODNN7EXAMPLE"],
    ["Kiln API token", "kiln_Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MA"],
    ["Kiln run token", "krt_eyJyIjoicmV2XzEyMyIsInMiOiJzYngifQ.c2lnbmF0dXJlLWJ5dGVz"],
  ];
  for (const [label, token] of planted) {
    it(`redacts a ${label} token wherever it appears`, () => {
      const out = redact(`export KEY=${token}\n"${token}" and (${token})`);
      expect(out).not.toContain(token);
      expect(out).toBe(`export KEY=${REDACTED}\n"${REDACTED}" and (${REDACTED})`);
    });
  }

  it("redacts a PEM private key block, and one cut off by truncated output", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc+/=\n-----END RSA PRIVATE KEY-----";
    expect(redact(`key:\n${pem}\ndone`)).toBe(`key:\n${REDACTED}\ndone`);
    expect(redact("x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC")).toBe(`x ${REDACTED}`);
    const publicKey = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----";
    expect(redact(publicKey)).toBe(publicKey);
  });

  it("keeps the label of Authorization and x-api-key headers", () => {
    expect(redact("curl -H 'Authorization: Bearer abc.def-ghi' https://api.test")).toBe(
      `curl -H 'Authorization: Bearer ${REDACTED}' https://api.test`,
    );
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).toBe(`{"authorization":"Basic ${REDACTED}"}`);
    expect(redact("x-api-key: sekrit-value")).toBe(`x-api-key: ${REDACTED}`);
  });

  it("redacts passwords in URLs but not ports or plain hosts", () => {
    expect(redact("DATABASE_URL=mysql://app:s3cr3t-pw@db.internal:3306/shop")).toBe(
      `DATABASE_URL=mysql://app:${REDACTED}@db.internal:3306/shop`,
    );
    expect(redact("postgres://u:p%40ss@h/db")).toBe(`postgres://u:${REDACTED}@h/db`);
    expect(redact("open http://localhost:3000/login")).toBe("open http://localhost:3000/login");
    expect(redact("mailto:ada@example.com")).toBe("mailto:ada@example.com");
  });

  it("leaves ordinary build output alone", () => {
    const text = [
      "task-runner finished in 3.2s",
      "cookie kiln_session set; database kiln_shop created",
      "sk-short",
      "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
      "✓ Compiled /projects/[projectId] in 812ms",
      "Authorization header missing",
    ].join("\n");
    expect(redact(text)).toBe(text);
  });
});

describe("redactJson", () => {
  it("redacts every string in a payload, at any depth, and nothing else", () => {
    const payload = {
      itemId: "item_1",
      command: `echo ${operatorKey}`,
      exitCode: 0,
      ok: true,
      none: null,
      changes: [{ path: "a.ts", note: ["nested", `x ${operatorKey}`] }],
    };
    expect(redactJson(payload, redact)).toEqual({
      itemId: "item_1",
      command: `echo ${REDACTED}`,
      exitCode: 0,
      ok: true,
      none: null,
      changes: [{ path: "a.ts", note: ["nested", `x ${REDACTED}`] }],
    });
    expect(payload.command).toBe(`echo ${operatorKey}`);
  });
});
