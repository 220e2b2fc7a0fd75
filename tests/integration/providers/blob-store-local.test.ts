import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalBlobStore } from "../../../src/server/integrations/blob-store/local";
import type { BlobStore } from "../../../src/server/integrations/blob-store/port";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeBlobStoreContract } from "../../contracts/blob-store";
import { rejectionOf } from "../../helpers/errors";

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "kiln-blobs-"));
  roots.push(root);
  return path.join(root, "blobs");
}
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describeBlobStoreContract("local", async () => ({
  store: createLocalBlobStore({ root: await freshRoot() }),
}));

describe("local BlobStore", () => {
  let root: string;
  let store: BlobStore;
  beforeAll(async () => {
    root = await freshRoot();
    store = createLocalBlobStore({ root });
  });

  it("leaves one complete version when puts of one key race", async () => {
    const key = "race/session.bin";
    const versions = Array.from({ length: 6 }, (_, i) =>
      Buffer.concat([Buffer.from([i]), randomBytes(1_500_000)]),
    );
    const types = versions.map((_, i) => `application/x-version-${i}`);
    await Promise.all(versions.map((body, i) => store.put(key, body, { contentType: types[i] })));

    const got = await store.get(key);
    const winner = versions.findIndex((body) => got?.body.equals(body));
    expect(winner).toBeGreaterThanOrEqual(0);
    // Metadata travels with the body in the same file, so it names the same winner.
    expect(got?.info.contentType).toBe(types[winner]);
    expect(await store.head(key)).toMatchObject({
      size: versions[winner]?.length,
      contentType: types[winner],
    });
    expect(await filesUnder(path.join(root, "race"))).toEqual(["session.bin~blob"]);
  });

  it("serves readers the old or the new version while a replace is in flight, never a mix", async () => {
    const key = "race/reader.bin";
    const oldBody = Buffer.alloc(2_000_000, 1);
    const newBody = Buffer.alloc(2_000_000, 2);
    await store.put(key, oldBody);
    const reads = Array.from({ length: 10 }, () => store.get(key));
    await Promise.all([store.put(key, newBody), ...reads]);
    for (const read of await Promise.all(reads)) {
      expect(read?.body.equals(oldBody) || read?.body.equals(newBody)).toBe(true);
    }
  });

  it("survives a put into a directory that a concurrent delete is pruning", async () => {
    for (let round = 0; round < 150; round++) {
      await store.put("churn/dir/deep/old", "old");
      await Promise.all([
        store.delete(["churn/dir/deep/old"]),
        store.put("churn/dir/new", `new-${round}`),
        store.put("churn/dir/deep/new", `deep-${round}`),
      ]);
      expect((await store.get("churn/dir/new"))?.body.toString()).toBe(`new-${round}`);
      expect((await store.get("churn/dir/deep/new"))?.body.toString()).toBe(`deep-${round}`);
      expect(await store.head("churn/dir/deep/old")).toBeNull();
      await store.delete(["churn/dir/new", "churn/dir/deep/new"]);
    }
  });

  it("keeps blobs as files under the root and prunes empty directories on delete", async () => {
    await store.put("tree/x/y/z.txt", "z");
    await store.put("tree/keep.txt", "k");
    expect(await readdir(path.join(root, "tree", "x", "y"))).toEqual(["z.txt~blob"]);
    await store.delete(["tree/x/y/z.txt"]);
    expect((await readdir(path.join(root, "tree"))).sort()).toEqual(["keep.txt~blob"]);
  });

  it("ignores temp files of an interrupted write and stray files", async () => {
    await store.put("stray/real", "r");
    await writeFile(path.join(root, "stray", "real~tmp-deadbeef"), "half-written");
    await writeFile(path.join(root, "stray", "README"), "operator note");
    await mkdir(path.join(root, "stray", "has space"));
    const listed = await store.list("stray/");
    expect(listed.items.map((item) => item.key)).toEqual(["stray/real"]);
    expect((await store.get("stray/real"))?.body.toString()).toBe("r");
  });

  it("rejects a cursor it did not issue", async () => {
    for (const cursor of ["not base64 at all!", Buffer.from("../x").toString("base64url"), "AAAA"]) {
      expect(await rejectionOf(store.list("", { cursor }))).toMatchObject({ kind: "invalid" });
    }
  });

  it("reports a damaged blob file as an internal ProviderError naming the file", async () => {
    await store.put("damaged/blob", "fine");
    await writeFile(path.join(root, "damaged", "blob~blob"), "garbage that is not a blob");
    const error = await providerErrorOf(store.get("damaged/blob"));
    expect(error).toMatchObject({ vendor: "local-blob", kind: "internal" });
    expect(error.message).toContain(path.join(root, "damaged", "blob~blob"));
  });

  it("reports a directory in the way as an error that says what to do", async () => {
    await mkdir(path.join(root, "blocked", "file~blob"), { recursive: true });
    const error = await providerErrorOf(store.put("blocked/file", "x"));
    expect(error.message).toContain(root);
    expect(error.message).toMatch(/move it away|check/);
  });

  it("writes blob files readable by its own user only", async () => {
    await store.put("modes/secret", "session");
    const file = path.join(root, "modes", "secret~blob");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file)).subarray(0, 8).toString()).toBe("KILNBLB1");
  });
});
