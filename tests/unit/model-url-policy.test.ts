import { describe, expect, it } from "vitest";
import { checkModelBaseUrl, isNonPublicAddress, type LookupAll } from "@/server/credentials/model-url-policy";

// DNS is outside this machine: the resolver is replaced at the seam, with the answers a hostile zone could give.
const zone: Record<string, string[]> = {
  "api.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
  "rebind.example.com": ["93.184.215.14", "127.0.0.1"],
  "metadata.example.com": ["169.254.169.254"],
  "ula.example.com": ["fd12:3456:789a::1"],
  "mapped.example.com": ["::ffff:10.1.2.3"],
};
const resolve: LookupAll = async (host) => {
  const answer = zone[host];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return answer;
};
const strict = { allowPrivate: false };

describe("isNonPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "[::1]",
    "2002:7f00:1::",
    "64:ff9b::7f00:1",
    "not-an-ip",
  ])("refuses %s", (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each(["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])(
    "allows %s",
    (address) => {
      expect(isNonPublicAddress(address)).toBe(false);
    },
  );
});

describe("checkModelBaseUrl", () => {
  it("allows an https URL whose host resolves to public addresses only", async () => {
    expect(await checkModelBaseUrl("https://api.example.com/v1", strict, resolve)).toEqual({ ok: true });
  });

  it.each([
    ["http://api.example.com/v1", /must use https/],
    ["https://127.0.0.1:3306", /loopback, private or link-local/],
    ["https://0x7f.1/v1", /loopback/],
    ["https://2130706433/v1", /loopback/],
    ["https://[::1]:8080", /loopback/],
    ["https://[::ffff:127.0.0.1]/", /loopback/],
    ["https://rebind.example.com/v1", /rebind\.example\.com is a loopback/],
    ["https://metadata.example.com/latest", /loopback, private/],
    ["https://ula.example.com", /loopback, private/],
    ["https://mapped.example.com", /loopback, private/],
    ["https://nowhere.example.com", /could not be resolved/],
    ["https://user:pw@api.example.com", /user name or password/],
    ["ftp://api.example.com", /only http\(s\)/],
    ["not a url", /not a URL/],
  ])("refuses %s", async (url, reason) => {
    const check = await checkModelBaseUrl(url, strict, resolve);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it("lets a platform that allows private hosts use http:// and loopback (Ollama on the box)", async () => {
    const open = { allowPrivate: true };
    expect(await checkModelBaseUrl("http://127.0.0.1:11434/v1", open, resolve)).toEqual({ ok: true });
    expect(await checkModelBaseUrl("http://rebind.example.com", open, resolve)).toEqual({ ok: true });
    // Still only http(s), and no credentials in the URL.
    expect((await checkModelBaseUrl("file:///etc/passwd", open, resolve)).ok).toBe(false);
  });
});
