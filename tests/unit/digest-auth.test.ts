import { afterEach, describe, expect, it } from "vitest";
import {
  computeDigestResponse,
  createDigestFetch,
  parseWwwAuthenticate,
  selectDigestChallenge,
} from "../../src/server/integrations/tidbcloud/digest-auth";
import { type FakeServer, json, route } from "../fakes/http";
import { type FakeTiDBCloudOptions, type FakeTiDBCloudServer, startFakeTiDBCloud } from "../fakes/tidbcloud";

const publicKey = "PUBKEY0001";
const privateKey = "8a0c1f3e-priv-key-value";

const servers: FakeServer[] = [];
async function fake(options: Partial<FakeTiDBCloudOptions> = {}): Promise<FakeTiDBCloudServer> {
  const server = await startFakeTiDBCloud({ publicKey, privateKey, ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function authorizationOf(server: FakeServer, index: number): string | undefined {
  const value = server.requests[index]?.headers.authorization;
  return Array.isArray(value) ? value.join(", ") : value;
}

describe("parseWwwAuthenticate", () => {
  it("keeps commas and escaped quotes inside quoted strings", () => {
    const [challenge] = parseWwwAuthenticate(
      'Digest realm="a, b \\"c\\"", qop="auth,auth-int", nonce="n=1,2", algorithm=SHA-256',
    );
    expect(challenge?.scheme).toBe("digest");
    expect(challenge?.params.get("realm")).toBe('a, b "c"');
    expect(challenge?.params.get("qop")).toBe("auth,auth-int");
    expect(challenge?.params.get("nonce")).toBe("n=1,2");
    expect(challenge?.params.get("algorithm")).toBe("SHA-256");
  });

  it("splits several challenges, including token68 and parameter-less ones", () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="x", Bearer abc/DEF+g==, Negotiate, DIGEST Realm="tidb.cloud" , NONCE=abc , algorithm=md5',
    );
    expect(challenges.map((challenge) => challenge.scheme)).toEqual([
      "basic",
      "bearer",
      "negotiate",
      "digest",
    ]);
    expect(challenges[1]?.token68).toBe("abc/DEF+g==");
    expect(challenges[3]?.params.get("realm")).toBe("tidb.cloud");
    expect(challenges[3]?.params.get("nonce")).toBe("abc");
  });
});

describe("selectDigestChallenge", () => {
  it("reads the algorithm case-insensitively and prefers the strongest one offered", () => {
    const chosen = selectDigestChallenge(
      'Digest realm="r", nonce="1", qop="auth", algorithm=md5, Digest realm="r", nonce="2", qop="auth", algorithm=sha-256',
    );
    expect(chosen).toMatchObject({ nonce: "2", algorithm: "SHA-256", qop: "auth", stale: false });
  });

  it("skips challenges it cannot answer", () => {
    expect(selectDigestChallenge('Digest realm="r", nonce="1", algorithm=SHA-1-FAKE')).toBeUndefined();
    expect(selectDigestChallenge('Digest realm="r", nonce="1", qop="auth-conf"')).toBeUndefined();
    expect(selectDigestChallenge('Basic realm="r"')).toBeUndefined();
    expect(selectDigestChallenge(null)).toBeUndefined();
  });
});

describe("computeDigestResponse", () => {
  it("matches the RFC 2617 §3.5 example", () => {
    expect(
      computeDigestResponse({
        algorithm: "MD5",
        username: "Mufasa",
        password: "Circle Of Life",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce: "0a4f113b",
        nc: 1,
        qop: "auth",
        method: "GET",
        uri: "/dir/index.html",
      }),
    ).toBe("6629fae49393a05397450978507c4ef1");
  });

  it("matches the RFC 7616 §3.9.1 examples for MD5 and SHA-256", () => {
    const common = {
      username: "Mufasa",
      password: "Circle of Life",
      realm: "http-auth@example.org",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
      nc: 1,
      qop: "auth" as const,
      method: "GET",
      uri: "/dir/index.html",
    };
    expect(computeDigestResponse({ ...common, algorithm: "MD5" })).toBe("8ca523f5e9506fed4657c9700eebdbec");
    expect(computeDigestResponse({ ...common, algorithm: "SHA-256" })).toBe(
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
  });
});

describe("createDigestFetch against the TiDB Cloud fake", () => {
  it.each([
    ["MD5", "canonical"],
    ["SHA-256", "canonical"],
    ["SHA-256", "lower"],
  ] as const)(
    "passes the fake's %s verification (algorithm spelled %s)",
    async (algorithm, algorithmCase) => {
      const server = await fake({ algorithms: [algorithm], algorithmCase });
      const digestFetch = createDigestFetch({ username: publicKey, password: privateKey });

      const response = await digestFetch(`${server.url}/clusters?pageSize=1`);

      expect(server.rejections).toEqual([]);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ clusters: [expect.anything()], nextPageToken: "" });
      expect(server.requests).toHaveLength(2);
      expect(authorizationOf(server, 0)).toBeUndefined();
      expect(authorizationOf(server, 1)).toMatch(new RegExp(`^Digest .*algorithm=${algorithm}`));
      expect(authorizationOf(server, 1)).toContain('uri="/clusters?pageSize=1"');
    },
  );

  it("answers the strongest of several challenges", async () => {
    const server = await fake({ algorithms: ["MD5", "SHA-256"] });
    const response = await createDigestFetch({ username: publicKey, password: privateKey })(
      `${server.url}/clusters`,
    );
    expect(response.status).toBe(200);
    expect(authorizationOf(server, 1)).toContain("algorithm=SHA-256");
  });

  it("pre-authenticates later requests with the cached challenge and an incremented nc", async () => {
    const server = await fake();
    const digestFetch = createDigestFetch({ username: publicKey, password: privateKey });

    expect((await digestFetch(`${server.url}/clusters`)).status).toBe(200);
    expect((await digestFetch(`${server.url}/clusters/10000000000000000001`)).status).toBe(200);
    expect((await digestFetch(`${server.url}/clusters`)).status).toBe(200);

    expect(server.rejections).toEqual([]);
    expect(server.requests).toHaveLength(4);
    expect(authorizationOf(server, 1)).toContain("nc=00000001");
    expect(authorizationOf(server, 2)).toContain("nc=00000002");
    expect(authorizationOf(server, 3)).toContain("nc=00000003");
  });

  it("re-authenticates once with the new nonce when the server says the nonce is stale", async () => {
    const server = await fake({ staleNonceOnce: true });
    const response = await createDigestFetch({ username: publicKey, password: privateKey })(
      `${server.url}/clusters`,
    );

    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(3);
    const nonceOf = (index: number) => /nonce="([^"]+)"/.exec(authorizationOf(server, index) ?? "")?.[1];
    expect(nonceOf(2)).toBeDefined();
    expect(nonceOf(2)).not.toBe(nonceOf(1));
  });

  it("recovers when the cached nonce expires between calls", async () => {
    const server = await fake();
    const digestFetch = createDigestFetch({ username: publicKey, password: privateKey });
    expect((await digestFetch(`${server.url}/clusters`)).status).toBe(200);
    server.expireNonces();

    expect((await digestFetch(`${server.url}/clusters`)).status).toBe(200);
    expect(server.requests).toHaveLength(4); // pre-authenticated with the expired nonce, then the new one
    expect((await digestFetch(`${server.url}/clusters`)).status).toBe(200);
    expect(server.requests).toHaveLength(5);
    expect(authorizationOf(server, 4)).toContain("nc=00000002");
    expect(server.rejections).toEqual([]);
  });

  it("never pre-authenticates a request to another origin", async () => {
    const first = await fake();
    const second = await fake();
    const digestFetch = createDigestFetch({ username: publicKey, password: privateKey });
    expect((await digestFetch(`${first.url}/clusters`)).status).toBe(200);
    expect((await digestFetch(`${second.url}/clusters`)).status).toBe(200);
    expect(authorizationOf(second, 0)).toBeUndefined();
    expect(second.requests).toHaveLength(2);
  });

  it("surfaces a wrong password as the 401 after exactly two requests, every time", async () => {
    const server = await fake();
    const digestFetch = createDigestFetch({ username: publicKey, password: "not-the-private-key" });

    const first = await digestFetch(`${server.url}/clusters`);
    expect(first.status).toBe(401);
    expect(await first.json()).toMatchObject({ code: 16, message: "Unauthenticated" });
    expect(server.requests).toHaveLength(2);
    expect(server.rejections).toEqual(["wrong response hash"]);

    const second = await digestFetch(`${server.url}/clusters`);
    expect(second.status).toBe(401);
    expect(server.requests).toHaveLength(4);
  });

  it("does not retry a 401 that carries no Digest challenge", async () => {
    const server = await fake({ intercept: () => json(401, { code: 16, message: "no", details: [] }) });
    const response = await createDigestFetch({ username: publicKey, password: privateKey })(
      `${server.url}/clusters`,
    );
    expect(response.status).toBe(401);
    expect(server.requests).toHaveLength(1);
  });

  it("returns a 429 as is, with its rate-limit headers", async () => {
    const server = await fake({ rateLimitAfter: 0 });
    const response = await createDigestFetch({ username: publicKey, password: privateKey })(
      `${server.url}/clusters`,
    );
    expect(response.status).toBe(429);
    expect(response.headers.get("x-ratelimit-remaining-minute")).toBe("0");
    expect(server.requests).toHaveLength(2);
  });

  it("re-sends a string body on the authenticated retry", async () => {
    const server = await fake({
      routes: [route("POST", "/clusters", ({ body }) => json(200, { received: body }))],
    });
    const body = JSON.stringify({ displayName: "kiln-test", region: { name: "regions/aws-us-east-1" } });
    const response = await createDigestFetch({ username: publicKey, password: privateKey })(
      `${server.url}/clusters`,
      {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: body });
    expect(server.requests.map((request) => request.body)).toEqual([body, body]);
  });

  it("refuses bodies it could not send twice", async () => {
    const digestFetch = createDigestFetch({ username: publicKey, password: privateKey });
    await expect(
      // @ts-expect-error: the type already forbids non-string bodies; this checks the runtime guard for JS callers.
      digestFetch("http://127.0.0.1:9/clusters", { method: "POST", body: new Blob(["x"]) }),
    ).rejects.toThrow(TypeError);
  });
});
