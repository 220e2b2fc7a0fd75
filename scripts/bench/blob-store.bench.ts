import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLocalBlobStore } from "../../src/server/integrations/blob-store/local";
import type { BlobStore } from "../../src/server/integrations/blob-store/port";
import { createVercelBlobStore } from "../../src/server/integrations/blob-store/vercel";
import { startFakeVercelBlob } from "../../tests/fakes/vercel-blob";
import { type BenchRow, measure } from "./stats";

// BlobStore hot paths: saving and restoring agent sessions (tens of KB to a few MB) and listing a revision's blobs.
// Local runs on the real filesystem (fsync included); vercel runs against the loopback fake, so its rows show the
// adapter's and SDK's own overhead, not Vercel's latency.

async function benchStore(
  label: string,
  store: BlobStore,
  listSize: number,
  withGoals: boolean,
): Promise<BenchRow[]> {
  // Goals describe the real local store; rows measured against a fake get none.
  const goal = (text: string) => (withGoals ? text : undefined);
  const small = randomBytes(64 * 1024);
  const large = randomBytes(4 * 1024 * 1024);
  const rows: BenchRow[] = [];
  rows.push(
    await measure(
      `[${label}] put 64 KB (atomic replace)`,
      50,
      (i) => store.put(`bench/small-${i % 5}`, small),
      {
        goal: goal("≤ 20 ms"),
      },
    ),
  );
  rows.push(
    await measure(`[${label}] get 64 KB`, 100, (i) => store.get(`bench/small-${Math.abs(i) % 5}`), {
      goal: goal("≤ 5 ms"),
    }),
  );
  rows.push(
    await measure(`[${label}] head`, 100, () => store.head("bench/small-1"), { goal: goal("≤ 5 ms") }),
  );
  rows.push(
    await measure(`[${label}] put 4 MB`, 10, (i) => store.put(`bench/large-${i % 2}`, large), {
      goal: goal("≤ 150 ms"),
    }),
  );
  rows.push(
    await measure(`[${label}] get 4 MB`, 10, () => store.get("bench/large-1"), { goal: goal("≤ 50 ms") }),
  );

  for (let i = 0; i < listSize; i++) await store.put(`bench/list/${String(i).padStart(5, "0")}`, "x");
  const firstPage = await store.list("bench/list/", { limit: 100 });
  const middle = firstPage.cursor ?? undefined;
  rows.push(
    await measure(
      `[${label}] list page of 100 of ${listSize}`,
      20,
      () => store.list("bench/list/", { limit: 100, ...(middle ? { cursor: middle } : {}) }),
      { goal: goal("≤ 50 ms") },
    ),
  );
  // measure() runs indices -2, -1 (warm-up) then 0..9: create every batch up front so only deletes are timed.
  const batch = (i: number) => Array.from({ length: 10 }, (_, k) => `bench/del/${i}/${k}`);
  for (let i = -2; i < 10; i++) for (const key of batch(i)) await store.put(key, "x");
  rows.push(
    await measure(`[${label}] delete 10 keys`, 10, (i) => store.delete(batch(i)), { goal: goal("≤ 50 ms") }),
  );
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const root = await mkdtemp(path.join(tmpdir(), "kiln-bench-blobs-"));
  try {
    rows.push(
      ...(await benchStore("local", createLocalBlobStore({ root: path.join(root, "blobs") }), 1_000, true)),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  // The SDK takes its base URL from the environment only: set for this run, as the platform does at boot.
  const token = "vercel_blob_rw_benchstore_benchsecret";
  const fake = await startFakeVercelBlob({ token });
  const saved = { url: process.env.VERCEL_BLOB_API_URL, retries: process.env.VERCEL_BLOB_RETRIES };
  process.env.VERCEL_BLOB_API_URL = fake.apiUrl;
  process.env.VERCEL_BLOB_RETRIES = "0";
  try {
    const store = createVercelBlobStore({ token, trustedBlobOrigins: [fake.url] });
    rows.push(...(await benchStore("vercel via fake", store, 300, false)));
  } finally {
    if (saved.url === undefined) delete process.env.VERCEL_BLOB_API_URL;
    else process.env.VERCEL_BLOB_API_URL = saved.url;
    if (saved.retries === undefined) delete process.env.VERCEL_BLOB_RETRIES;
    else process.env.VERCEL_BLOB_RETRIES = saved.retries;
    await fake.close();
  }
  return rows;
}
