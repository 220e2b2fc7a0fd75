import { describe, expect, it } from "vitest";
import { isProxyEntry, resolveClientAddress, trustedProxies } from "@/server/http/client-address";

// Who the sign-in limiter thinks the client is, given what the socket and the headers say.

const nobody = trustedProxies([]);

describe("resolveClientAddress", () => {
  it("without trusted proxies, is the socket's peer whatever X-Forwarded-For says", () => {
    for (const forwarded of [undefined, "198.51.100.7", "198.51.100.7, 10.0.0.1", ["1.2.3.4", "5.6.7.8"]]) {
      expect(resolveClientAddress("203.0.113.9", forwarded, nobody)).toBe("203.0.113.9");
    }
  });

  it("reads an IPv4 client on a dual-stack socket as plain IPv4", () => {
    expect(resolveClientAddress("::ffff:203.0.113.9", undefined, nobody)).toBe("203.0.113.9");
    expect(resolveClientAddress("2001:DB8::1", undefined, nobody)).toBe("2001:db8::1");
  });

  it("behind a trusted proxy, takes the address that proxy appended, not what the client wrote before it", () => {
    const proxy = trustedProxies(["10.0.0.1"]);
    expect(resolveClientAddress("10.0.0.1", "203.0.113.9", proxy)).toBe("203.0.113.9");
    // The client sent its own X-Forwarded-For; the proxy appended the real peer after it.
    expect(resolveClientAddress("10.0.0.1", "1.2.3.4, 203.0.113.9", proxy)).toBe("203.0.113.9");
  });

  it("walks a chain of trusted proxies (a CIDR range) to the first untrusted hop", () => {
    const proxies = trustedProxies(["10.0.0.0/8", "fd00::/8"]);
    expect(resolveClientAddress("10.0.0.1", "1.2.3.4, 203.0.113.9, 10.2.3.4", proxies)).toBe("203.0.113.9");
    expect(resolveClientAddress("fd00::5", "203.0.113.9", proxies)).toBe("203.0.113.9");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy (a client connecting directly)", () => {
    const proxy = trustedProxies(["10.0.0.1"]);
    expect(resolveClientAddress("203.0.113.9", "10.0.0.1, 1.2.3.4", proxy)).toBe("203.0.113.9");
  });

  it("keeps the proxy's own address when it forwards nothing usable", () => {
    const proxy = trustedProxies(["10.0.0.1"]);
    expect(resolveClientAddress("10.0.0.1", undefined, proxy)).toBe("10.0.0.1");
    expect(resolveClientAddress("10.0.0.1", "not-an-address", proxy)).toBe("10.0.0.1");
  });

  it("knows nobody when the socket has no address", () => {
    expect(resolveClientAddress(undefined, "1.2.3.4", nobody)).toBeNull();
  });
});

describe("isProxyEntry", () => {
  it.each(["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.0.0/32"])("accepts %s", (entry) => {
    expect(isProxyEntry(entry)).toBe(true);
  });
  it.each(["proxy.local", "10.0.0.0/33", "::1/129", "10.0.0.1/", "10.0.0.0/8/8", "1.2.3.4/x"])(
    "refuses %s",
    (entry) => {
      expect(isProxyEntry(entry)).toBe(false);
    },
  );
});
