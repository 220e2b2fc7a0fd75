import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobInfo, BlobStore } from "../../src/server/integrations/blob-store/port";
import { ProviderError } from "../../src/server/integrations/provider-error";
import { rejectionOf } from "../helpers/errors";

/**
 * What every BlobStore adapter must do, asserted the same way for each. Each test works under its own random
 * prefix, so one store (and one fake) can serve the whole suite.
 */

export type BlobStoreContractHarness = {
  store: BlobStore;
  close?(): Promise<void>;
};

async function collectAll(store: BlobStore, prefix: string, limit: number) {
  const pages: BlobInfo[][] = [];
  let cursor: string | undefined;
  // Bounded: the contract never stores more than a few dozen blobs under one prefix.
  for (let page = 0; page < 50; page++) {
    const result = await store.list(prefix, { limit, ...(cursor ? { cursor } : {}) });
    pages.push(result.items);
    if (result.cursor === null) return pages;
    cursor = result.cursor;
  }
  throw new Error("list never returned a null cursor");
}

const badKeys = [
  "",
  "/leading",
  "trailing/",
  "double//slash",
  "../escape",
  "a/../b",
  "a/./b",
  ".",
  "has space",
  "ümlaut",
  "back\\slash",
  "tilde~blob",
  `${"x/".repeat(256)}x`,
  "x".repeat(201),
];

export function describeBlobStoreContract(
  label: string,
  makeHarness: () => Promise<BlobStoreContractHarness>,
) {
  describe(`BlobStore contract: ${label}`, () => {
    let harness: BlobStoreContractHarness;
    let store: BlobStore;
    const fresh = () => `contract-${randomBytes(5).toString("hex")}`;

    beforeAll(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.close?.();
    });

    it("round-trips text with its content type and reports size and upload time", async () => {
      const key = `${fresh()}/notes.txt`;
      const before = Date.now();
      const info = await store.put(key, "héllo wörld", { contentType: "text/plain; charset=utf-8" });
      expect(info).toMatchObject({
        key,
        size: Buffer.byteLength("héllo wörld"),
        contentType: "text/plain; charset=utf-8",
      });
      expect(info.uploadedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
      expect(info.uploadedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);

      const got = await store.get(key);
      expect(got?.body.toString("utf8")).toBe("héllo wörld");
      expect(got?.info).toMatchObject({ key, size: info.size, contentType: "text/plain; charset=utf-8" });
    });

    it("round-trips binary bytes exactly, defaulting the content type", async () => {
      const key = `${fresh()}/bundle.bin`;
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const body = Buffer.concat([every, randomBytes(200_000), every]);
      const info = await store.put(key, body);
      expect(info.contentType).toBe("application/octet-stream");
      expect(info.size).toBe(body.length);
      const got = await store.get(key);
      expect(got?.body.equals(body)).toBe(true);
    });

    it("round-trips an empty body", async () => {
      const key = `${fresh()}/empty`;
      await store.put(key, Buffer.alloc(0));
      const got = await store.get(key);
      expect(got?.body.length).toBe(0);
      expect(got?.info.size).toBe(0);
    });

    it("replaces a blob: body, size and content type all change together", async () => {
      const key = `${fresh()}/session.jsonl`;
      await store.put(key, "first version, longer", { contentType: "text/plain" });
      await store.put(key, '{"v":2}', { contentType: "application/json" });
      const got = await store.get(key);
      expect(got?.body.toString()).toBe('{"v":2}');
      expect(await store.head(key)).toMatchObject({ key, size: 7, contentType: "application/json" });
      const listed = await store.list(key);
      expect(listed.items.map((item) => item.key)).toEqual([key]);
    });

    it("heads without the body and answers null for missing blobs", async () => {
      const base = fresh();
      await store.put(`${base}/present.json`, "{}", { contentType: "application/json" });
      const info = await store.head(`${base}/present.json`);
      expect(info).toMatchObject({ key: `${base}/present.json`, size: 2, contentType: "application/json" });
      expect(info?.uploadedAt).toBeInstanceOf(Date);
      expect(await store.head(`${base}/absent.json`)).toBeNull();
      expect(await store.get(`${base}/absent.json`)).toBeNull();
      expect(await store.head(`${base}/present.json/child`)).toBeNull();
    });

    it("keeps a key and keys below it side by side", async () => {
      const base = fresh();
      await store.put(`${base}/a`, "parent");
      await store.put(`${base}/a/b`, "child");
      expect((await store.get(`${base}/a`))?.body.toString()).toBe("parent");
      expect((await store.get(`${base}/a/b`))?.body.toString()).toBe("child");
    });

    it("lists under a prefix in key order, paging with a cursor", async () => {
      const base = fresh();
      const names = ["b/c/d", "a0", "a/b", "a.b", "a", "a-b", "a/a/z", "b", "_x", "Z"];
      for (const name of names) await store.put(`${base}/${name}`, name, { contentType: "text/plain" });
      await store.put(`${base}-sibling/a`, "outside");

      const pages = await collectAll(store, `${base}/`, 2);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
      const keys = pages.flat().map((item) => item.key);
      const expected = names.map((name) => `${base}/${name}`).sort();
      expect(keys).toEqual(expected);
      expect(pages.length).toBe(Math.ceil(names.length / 2));
      for (const item of pages.flat()) {
        expect(item.contentType).toBe("text/plain");
        expect(item.size).toBe(item.key.length - base.length - 1);
        expect(item.uploadedAt).toBeInstanceOf(Date);
      }

      // A prefix may end inside a segment.
      const partial = (await collectAll(store, `${base}/a`, 100)).flat().map((item) => item.key);
      expect(partial).toEqual(expected.filter((key) => key.startsWith(`${base}/a`)));
      expect(partial).toHaveLength(6);

      const one = await store.list(`${base}/b/`);
      expect(one).toEqual({ items: [expect.objectContaining({ key: `${base}/b/c/d` })], cursor: null });
      expect(await store.list(`${fresh()}/`)).toEqual({ items: [], cursor: null });
    });

    it("deletes idempotently, several keys at once", async () => {
      const base = fresh();
      await store.put(`${base}/one`, "1");
      await store.put(`${base}/deep/two`, "2");
      await store.put(`${base}/three`, "3");
      await store.delete([`${base}/one`, `${base}/deep/two`, `${base}/never-existed`]);
      expect(await store.get(`${base}/one`)).toBeNull();
      expect(await store.head(`${base}/deep/two`)).toBeNull();
      await store.delete([`${base}/one`, `${base}/deep/two`]);
      await store.delete([]);
      const left = await store.list(`${base}/`);
      expect(left.items.map((item) => item.key)).toEqual([`${base}/three`]);
      // A deleted key can be written again.
      await store.put(`${base}/deep/two`, "again");
      expect((await store.get(`${base}/deep/two`))?.body.toString()).toBe("again");
    });

    it("rejects bad keys, prefixes and content types with an invalid ProviderError", async () => {
      for (const key of badKeys) {
        for (const attempt of [
          () => store.put(key, "x"),
          () => store.get(key),
          () => store.head(key),
          () => store.delete([`${fresh()}/fine`, key]),
        ]) {
          const error = await rejectionOf(attempt());
          expect(error, `key ${JSON.stringify(key)}`).toBeInstanceOf(ProviderError);
          expect(error).toMatchObject({ kind: "invalid", retryable: false });
        }
      }
      for (const prefix of ["/a", "a//", "../", "a/../", "has space"]) {
        expect(await rejectionOf(store.list(prefix))).toMatchObject({ kind: "invalid" });
      }
      const badType = await rejectionOf(
        store.put(`${fresh()}/x`, "x", { contentType: "text/plain\r\nx: y" }),
      );
      expect(badType).toMatchObject({ kind: "invalid" });
      expect(await rejectionOf(store.list(`${fresh()}/`, { limit: 0 }))).toMatchObject({ kind: "invalid" });
    });

    it("accepts the longest valid key and segments", async () => {
      const base = fresh();
      const segment = "k".repeat(200);
      const key = `${base}/${segment}/${segment}/${"k".repeat(512 - base.length - 403)}`;
      expect(key).toHaveLength(512);
      await store.put(key, "long");
      expect((await store.get(key))?.body.toString()).toBe("long");
    });
  });
}
