import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import { createLocalBlobStore } from "@/server/integrations/blob-store/local";
import type { BlobStore } from "@/server/integrations/blob-store/port";
import { ProviderError } from "@/server/integrations/provider-error";
import { createProject } from "@/server/operations/create-project";
import { revisionScreenshotKey, saveRevisionScreenshot } from "@/server/pipeline/revision-screenshot";
import { captureScreenshot, findChromium } from "@/server/pipeline/screenshot";
import { getRevisionScreenshot } from "@/server/revisions/revision-screenshot-file";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const block = { r: 230, g: 20, b: 120 };

const page = `<!doctype html><html><head><style>
  html, body { margin: 0; background: #ffffff; }
  #block { position: absolute; left: 0; top: 0; width: 640px; height: 400px;
           background: rgb(${block.r}, ${block.g}, ${block.b}); }
</style></head><body><div id="block"></div></body></html>`;

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bound once to learn a free number, then released. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  const url = await listen(server);
  await close(server);
  return `${url}/`;
}

/** The PNG's size and a reader for one pixel (8-bit RGB/RGBA, not interlaced: what Chromium writes). */
function decodePng(png: Buffer) {
  expect(png.subarray(0, 8).equals(pngSignature)).toBe(true);
  let offset = 8;
  let header: {
    width: number;
    height: number;
    bitDepth: number;
    colorType: number;
    interlace: number;
  } | null = null;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      header = {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        bitDepth: data[8] ?? 0,
        colorType: data[9] ?? 0,
        interlace: data[12] ?? 0,
      };
    }
    if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  if (!header) throw new Error("the PNG has no IHDR chunk");
  const ihdr = header;
  const { width, height } = ihdr;
  return {
    width,
    height,
    pixel(x: number, y: number): { r: number; g: number; b: number } {
      if (ihdr.bitDepth !== 8 || ![2, 6].includes(ihdr.colorType) || ihdr.interlace !== 0) {
        throw new Error(`unexpected PNG format ${JSON.stringify(ihdr)}`);
      }
      const channels = ihdr.colorType === 6 ? 4 : 3;
      const stride = width * channels;
      const raw = zlib.inflateSync(Buffer.concat(idat));
      // Undo the per-row filters up to row y (each row may depend on the one above).
      let previous = Buffer.alloc(stride);
      let row = Buffer.alloc(stride);
      for (let r = 0; r <= y; r++) {
        const start = r * (stride + 1);
        const filter = raw[start];
        row = Buffer.from(raw.subarray(start + 1, start + 1 + stride));
        for (let i = 0; i < stride; i++) {
          const left = i >= channels ? (row[i - channels] ?? 0) : 0;
          const up = previous[i] ?? 0;
          const upLeft = i >= channels ? (previous[i - channels] ?? 0) : 0;
          const current = row[i] ?? 0;
          if (filter === 1) row[i] = current + left;
          else if (filter === 2) row[i] = current + up;
          else if (filter === 3) row[i] = current + ((left + up) >> 1);
          else if (filter === 4) {
            const p = left + up - upLeft;
            const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
            row[i] = current + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
          }
        }
        previous = row;
      }
      const at = x * channels;
      return { r: row[at] ?? -1, g: row[at + 1] ?? -1, b: row[at + 2] ?? -1 };
    },
  };
}

/** Chromium processes started by this test process that are still running. */
async function chromiumChildren(): Promise<string[]> {
  const { stdout } = await promisify(execFile)("ps", [
    "-o",
    "pid=,comm=",
    "--ppid",
    String(process.pid),
  ]).catch(
    // ps exits 1 when no process matches: that is the answer "none".
    (error: { code?: number; stdout?: string }) => {
      if (error.code === 1) return { stdout: "" };
      throw error;
    },
  );
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /chrom/i.test(line));
}

function requireChromium(): string {
  const found = findChromium(process.env.CHROMIUM_PATH);
  if (!found) {
    throw new Error(
      "No Chromium found (CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser): install it with " +
        "`apt-get install -y chromium`. The screenshot tests do not skip.",
    );
  }
  return found;
}

describe("captureScreenshot", () => {
  let server: http.Server;
  let baseUrl: string;
  let chromiumPath: string;

  beforeAll(async () => {
    chromiumPath = requireChromium();
    server = http.createServer((request, response) => {
      const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
      if (pathname === "/hang") return; // never answers: the capture must give up on its own
      if (pathname === "/broken") {
        response.writeHead(500, { "content-type": "text/plain" }).end("boom");
        return;
      }
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    });
    baseUrl = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  it("takes a PNG of the viewport, showing the page", async () => {
    const png = await captureScreenshot(`${baseUrl}/`, { chromiumPath, timeoutMs: 20_000 });
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([1280, 800]);
    expect(image.pixel(100, 100)).toEqual(block);
    expect(image.pixel(1000, 700)).toEqual({ r: 255, g: 255, b: 255 });
    expect(await chromiumChildren()).toEqual([]);
  });

  it("uses the viewport it is given", async () => {
    const png = await captureScreenshot(`${baseUrl}/`, {
      chromiumPath,
      timeoutMs: 20_000,
      viewport: { width: 400, height: 300 },
    });
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([400, 300]);
    expect(image.pixel(399, 299)).toEqual(block);
  });

  it("rejects an unreachable preview with a readable ProviderError, and leaves no browser running", async () => {
    const url = await closedPortUrl();
    const started = Date.now();
    const error = await rejectionOf(captureScreenshot(url, { chromiumPath, timeoutMs: 15_000 }));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error).toBeInstanceOf(ProviderError);
    const providerError = error as ProviderError;
    expect([providerError.vendor, providerError.kind, providerError.retryable]).toEqual([
      "chromium",
      "unavailable",
      true,
    ]);
    expect(providerError.message).toBe(
      `Could not load ${url} for a screenshot: net::ERR_CONNECTION_REFUSED.`,
    );
    expect(await chromiumChildren()).toEqual([]);
  });

  it("gives up on a preview that never answers once the time is up", async () => {
    const started = Date.now();
    const error = await rejectionOf(captureScreenshot(`${baseUrl}/hang`, { chromiumPath, timeoutMs: 3_000 }));
    // The message below shows the 3 s limit ended it; this bound is only against a hang, and leaves a loaded machine
    // time to start and stop Chromium.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error).toBeInstanceOf(ProviderError);
    expect([(error as ProviderError).kind, (error as ProviderError).message]).toEqual([
      "timeout",
      `Could not load ${baseUrl}/hang for a screenshot: it took too long.`,
    ]);
    expect(await chromiumChildren()).toEqual([]);
  });

  it("refuses to picture an error page", async () => {
    const error = await rejectionOf(
      captureScreenshot(`${baseUrl}/broken?token=secret-value`, { chromiumPath, timeoutMs: 15_000 }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect([(error as ProviderError).status, (error as ProviderError).message]).toEqual([
      500,
      `Could not screenshot ${baseUrl}/broken: it answered HTTP 500.`,
    ]);
  });

  it("says so when the Chromium it was given does not exist", async () => {
    const error = await rejectionOf(
      captureScreenshot(`${baseUrl}/`, { chromiumPath: "/nonexistent/chromium", timeoutMs: 10_000 }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toMatch(/^Chromium \(\/nonexistent\/chromium\) did not start: /);
  });
});

describe("findChromium", () => {
  it("prefers the configured path and falls back to the system Chromium", () => {
    const system = requireChromium();
    const configured = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-chromium-")), "chrome");
    fs.writeFileSync(configured, "");
    expect(findChromium(configured)).toBe(configured);
    expect(findChromium("/nonexistent/chromium")).toBe(
      ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate)) ??
        null,
    );
    expect(findChromium()).toBe(findChromium("/nonexistent/chromium"));
    if (!process.env.CHROMIUM_PATH) expect(findChromium()).toBe(system);
  });
});

const local = localProviderChoices;

describe.each(testDatabases)("revision screenshots on $name", (factory) => {
  let t: TestDatabase;
  let blobRoot: string;
  let blob: BlobStore;
  let ada: { id: string };
  let grace: { id: string };
  let created: Awaited<ReturnType<typeof createProject>>;
  const png = Buffer.concat([pngSignature, Buffer.from("not really a picture, but bytes to round-trip")]);

  beforeEach(async () => {
    t = await factory.open();
    blobRoot = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-screenshots-"));
    blob = createLocalBlobStore({ root: blobRoot });
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    grace = await createOperator(
      t.db,
      { email: "grace@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    created = await createProject(t.db, ada.id, { prompt: "A todo app" }, local);
  });
  afterEach(async () => {
    await t.drop();
    fs.rmSync(blobRoot, { recursive: true, force: true });
  });

  const blobFor = (project: { id: string }) => {
    // The route opens the store of the revision's own project: a wrong project here is a bug.
    expect(project.id).toBe(created.project.id);
    return blob;
  };

  it("stores the PNG, records its key on the revision, and serves it to the owner only", async () => {
    const revisionId = created.revision.id;
    expect((await appErrorOf(getRevisionScreenshot(t.db, ada.id, revisionId, blobFor))).code).toBe(
      "not_found:screenshot",
    );

    const key = await saveRevisionScreenshot({ db: t.db, blob }, revisionId, png);
    expect(key).toBe(`screenshots/${revisionId}.png`);
    expect(revisionScreenshotKey(revisionId)).toBe(key);
    expect((await findRevisionOfUser(t.db, ada.id, revisionId))?.screenshot_key).toBe(key);
    expect((await blob.head(key))?.contentType).toBe("image/png");

    expect((await getRevisionScreenshot(t.db, ada.id, revisionId, blobFor)).equals(png)).toBe(true);
    expect((await appErrorOf(getRevisionScreenshot(t.db, grace.id, revisionId, blobFor))).code).toBe(
      "not_found:revision",
    );
    expect((await appErrorOf(getRevisionScreenshot(t.db, ada.id, "rev_missing", blobFor))).code).toBe(
      "not_found:revision",
    );
  });

  it("replaces the picture on a retake, and reads a lost blob as no screenshot", async () => {
    const revisionId = created.revision.id;
    await saveRevisionScreenshot({ db: t.db, blob }, revisionId, png);
    const retake = Buffer.concat([pngSignature, Buffer.from("the second picture")]);
    await saveRevisionScreenshot({ db: t.db, blob }, revisionId, retake);
    expect((await getRevisionScreenshot(t.db, ada.id, revisionId, blobFor)).equals(retake)).toBe(true);

    await blob.delete([revisionScreenshotKey(revisionId)]);
    expect((await appErrorOf(getRevisionScreenshot(t.db, ada.id, revisionId, blobFor))).code).toBe(
      "not_found:screenshot",
    );
  });
});
