import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "../../../src/server/integrations/blob-store/port";
import {
  createVercelBlobStore,
  type VercelBlobStoreOptions,
} from "../../../src/server/integrations/blob-store/vercel";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeBlobStoreContract } from "../../contracts/blob-store";
import { type FakeInterceptor, type FakeReply, json } from "../../fakes/http";
import { type FakeVercelBlob, startFakeVercelBlob } from "../../fakes/vercel-blob";
import { rejectionOf } from "../../helpers/errors";

// A recognisable secret: it must never surface in an error message.
const token = "vercel_blob_rw_fakestore01_SECRETblobTOKEN0123456789";

/**
 * @vercel/blob reads its base URL and retry count from the environment on every call and offers no option for
 * either. This file sets them once for all its tests (as the platform does once at boot) and restores them after.
 */
const envNames = ["VERCEL_BLOB_API_URL", "VERCEL_BLOB_RETRIES"] as const;
const savedEnv = new Map(envNames.map((name) => [name, process.env[name]]));

let fake: FakeVercelBlob;
/** Faults for the next requests; consumed in order. */
const faults: FakeInterceptor[] = [];

beforeAll(async () => {
  fake = await startFakeVercelBlob({
    token,
    intercept: (request) => {
      for (const [index, fault] of faults.entries()) {
        const reply = fault(request);
        if (reply instanceof Promise) throw new Error("faults here are synchronous");
        if (reply) {
          faults.splice(index, 1);
          return reply;
        }
      }
      return undefined;
    },
  });
  process.env.VERCEL_BLOB_API_URL = fake.apiUrl;
  process.env.VERCEL_BLOB_RETRIES = "0";
});

afterAll(async () => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await fake?.close();
});

function makeStore(overrides: Partial<VercelBlobStoreOptions> = {}): BlobStore {
  return createVercelBlobStore({ token, trustedBlobOrigins: [fake.url], timeoutMs: 5_000, ...overrides });
}

async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  expect(error.message).not.toContain(token);
  expect(error.message).not.toContain("SECRETblobTOKEN");
  return error;
}

describeBlobStoreContract("vercel (fake Vercel Blob API)", async () => ({ store: makeStore() }));

describe("vercel BlobStore on the wire", () => {
  it("stores private blobs under the exact key, overwriting, with the token and API version", async () => {
    const store = makeStore();
    const before = fake.requests.length;
    await store.put("wire/put.txt", "x", { contentType: "text/plain" });
    const putRequest = fake.requests.slice(before).find((request) => request.method === "PUT");
    expect(putRequest?.path).toBe("/api/blob/?pathname=wire%2Fput.txt");
    expect(putRequest?.headers).toMatchObject({
      authorization: `Bearer ${token}`,
      "x-vercel-blob-access": "private",
      "x-add-random-suffix": "0",
      "x-allow-overwrite": "1",
      "x-content-type": "text/plain",
      "x-api-version": expect.stringMatching(/^\d+$/),
    });
    expect(fake.blobs.get("wire/put.txt")?.access).toBe("private");
  });

  it("reads a body from the blob URL with the token, bypassing the cache, and never returns the URL", async () => {
    const store = makeStore();
    await store.put("wire/get.json", '{"a":1}', { contentType: "application/json" });
    const before = fake.requests.length;
    const got = await store.get("wire/get.json");
    expect(got?.body.toString()).toBe('{"a":1}');
    expect(JSON.stringify(got?.info)).not.toMatch(/https?:|blob\.vercel-storage/);
    const download = fake.requests.slice(before).find((request) => request.path.includes(".private.blob."));
    expect(download?.headers.authorization).toBe(`Bearer ${token}`);
    expect(download?.path).toContain("cache=0");
  });

  it("refuses to send the token to a download URL outside Vercel's blob hosts", async () => {
    const store = makeStore({ trustedBlobOrigins: [] });
    await store.put("wire/untrusted.txt", "x");
    const before = fake.requests.length;
    const error = await providerErrorOf(store.get("wire/untrusted.txt"));
    expect(error).toMatchObject({ vendor: "vercel", kind: "internal" });
    expect(error.message).toMatch(/refusing to send the token/);
    expect(fake.requests.slice(before).some((request) => request.path.includes(".blob."))).toBe(false);
  });

  it("lists only blobs whose pathnames are valid Kiln keys", async () => {
    const store = makeStore();
    await store.put("shared/kiln.txt", "mine");
    fake.blobs.set("shared/some one else.txt", {
      pathname: "shared/some one else.txt",
      body: Buffer.from("theirs"),
      contentType: "text/plain",
      access: "private",
      uploadedAt: new Date(),
      etag: '"x"',
    });
    expect((await store.list("shared/")).items.map((item) => item.key)).toEqual(["shared/kiln.txt"]);
  });

  it("treats a blob deleted between head and download as missing", async () => {
    const store = makeStore();
    await store.put("wire/vanishing.txt", "x");
    faults.push((request) => {
      if (!request.path.includes("vanishing.txt") || !request.path.includes(".blob.")) return undefined;
      return { status: 404, text: "Not Found" };
    });
    expect(await store.get("wire/vanishing.txt")).toBeNull();
  });
});

describe("vercel BlobStore failures", () => {
  const store = () => makeStore({ timeoutMs: 800 });
  const apiFault = (reply: FakeReply): FakeInterceptor => {
    return (request) => (request.path.startsWith("/api/blob") ? reply : undefined);
  };

  it("maps a refused token to auth, saying which token to use", async () => {
    const error = await providerErrorOf(
      createVercelBlobStore({ token: "vercel_blob_rw_fakestore01_WRONGsecret99999" }).head("a/b"),
    );
    expect(error).toMatchObject({ vendor: "vercel", kind: "auth", retryable: false });
    expect(error.message).toMatch(/read-write token/);
  });

  it("maps 429 to rate_limited with the Retry-After delay", async () => {
    faults.push(
      apiFault(
        json(429, { error: { code: "rate_limited", message: "Too many requests" } }, { "retry-after": "7" }),
      ),
    );
    const error = await providerErrorOf(store().put("fault/rate.txt", "x"));
    expect(error).toMatchObject({ kind: "rate_limited", retryable: true, retryAfterMs: 7_000 });
  });

  it("maps 503 service_unavailable and an unreadable 500 to unavailable", async () => {
    faults.push(apiFault(json(503, { error: { code: "service_unavailable", message: "down" } })));
    expect(await providerErrorOf(store().head("fault/x"))).toMatchObject({
      kind: "unavailable",
      retryable: true,
    });
    faults.push(apiFault({ status: 500, text: "<html>Internal Server Error</html>" }));
    expect(await providerErrorOf(store().list("fault/"))).toMatchObject({ kind: "unavailable" });
  });

  it("maps suspended and missing stores to actionable kinds", async () => {
    faults.push(apiFault(json(403, { error: { code: "store_suspended", message: "suspended" } })));
    const suspended = await providerErrorOf(store().put("fault/s", "x"));
    expect(suspended).toMatchObject({ kind: "forbidden" });
    expect(suspended.message).toMatch(/suspended/);
    faults.push(apiFault(json(404, { error: { code: "store_not_found", message: "no store" } })));
    const missing = await providerErrorOf(store().put("fault/s", "x"));
    expect(missing).toMatchObject({ kind: "not_found" });
    expect(missing.message).toMatch(/create a Blob store/);
  });

  it("maps a vendor bad_request to invalid with the vendor's words, scrubbed", async () => {
    faults.push(
      apiFault(json(400, { error: { code: "bad_request", message: `token ${token} cannot do that` } })),
    );
    const error = await providerErrorOf(store().put("fault/bad", "x"));
    expect(error).toMatchObject({ kind: "invalid", retryable: false });
    expect(error.message).toContain("[redacted]");
  });

  it("bounds a hanging API call with a timeout error", async () => {
    faults.push(apiFault({ hang: true }));
    const started = Date.now();
    const error = await providerErrorOf(store().head("fault/hang"));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    // The store's own 0.8 s limit gave up, as the message says; the bound is only against a hang, with room for a
    // loaded machine.
    expect(error.message).toContain("within 0.8 s");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("maps a dropped connection to unavailable", async () => {
    faults.push(apiFault({ drop: true }));
    const error = await providerErrorOf(store().head("fault/drop"));
    expect(error).toMatchObject({ kind: "unavailable" });
    expect(error.message).toMatch(/Could not reach Vercel Blob/);
  });

  it("maps a refused or failing download by status", async () => {
    const s = store();
    await s.put("fault/download.txt", "x");
    faults.push((request) =>
      request.path.includes(".blob.") ? { status: 403, text: "Forbidden" } : undefined,
    );
    expect(await providerErrorOf(s.get("fault/download.txt"))).toMatchObject({
      kind: "forbidden",
      status: 403,
    });
    faults.push((request) =>
      request.path.includes(".blob.") ? { status: 502, text: "Bad Gateway" } : undefined,
    );
    expect(await providerErrorOf(s.get("fault/download.txt"))).toMatchObject({
      kind: "unavailable",
      status: 502,
    });
  });

  it("rejects an answer of an unexpected shape as internal", async () => {
    faults.push(apiFault(json(200, { hello: "world" })));
    const error = await providerErrorOf(store().head("fault/shape"));
    expect(error).toMatchObject({ kind: "internal" });
    expect(error.message).toMatch(/unexpected shape/);
  });
});
