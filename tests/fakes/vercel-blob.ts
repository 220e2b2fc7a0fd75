import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { FakeInterceptor, FakeReply, FakeRequest, FakeServer, RecordedRequest } from "./http";
import { json, listenOnLoopback } from "./http";

/**
 * Vercel Blob API as @vercel/blob 2.x speaks it (read from node_modules/@vercel/blob/dist): the SDK sends every
 * call to `VERCEL_BLOB_API_URL` (default https://vercel.com/api/blob) with `authorization: Bearer <token>`,
 * `x-api-version`, `x-vercel-blob-store-id`:
 * - put: `PUT {base}/?pathname=P`, raw body, headers `x-vercel-blob-access`, `x-add-random-suffix` ("0"/"1"),
 *   `x-allow-overwrite` ("0"/"1"), `x-content-type` → `{url, downloadUrl, pathname, contentType,
 *   contentDisposition, etag}`;
 * - head: `GET {base}?url=U` (U a URL or pathname) → the put fields plus `size, uploadedAt, cacheControl`;
 * - list: `GET {base}?limit&prefix&cursor` → `{blobs: [{url, downloadUrl, pathname, size, uploadedAt, etag}],
 *   cursor?, hasMore}`, in pathname order;
 * - delete: `POST {base}/delete` `{urls: [...]}` (URLs or pathnames) → JSON;
 * - errors: `{error: {code, message}}` — `forbidden` (bad token), `not_found`, `bad_request`, `rate_limited`,
 *   `service_unavailable`, `store_suspended`, `store_not_found`.
 * Blob bodies are served where `url` points: the real `https://<storeId>.<access>.blob.vercel-storage.com/<path>`
 * becomes `<fake>/<storeId>.<access>.blob.vercel-storage.com/<path>`; private ones need the Bearer token.
 *
 * Unlike tests/fakes/http.ts (which reads bodies as UTF-8 text), this server keeps request bodies as bytes, so
 * binary blobs round-trip exactly.
 */

export type FakeStoredBlob = {
  pathname: string;
  body: Buffer;
  contentType: string;
  access: "public" | "private";
  uploadedAt: Date;
  etag: string;
};

export type FakeVercelBlobOptions = {
  /** `vercel_blob_rw_<storeId>_<secret>`: the SDK derives the store id from it. */
  token: string;
  /** The store's access mode; a put with the other mode is refused. Default "private". */
  storeAccess?: "public" | "private";
  /** Runs before auth for every request (API and blob bodies): return a reply to inject a fault. */
  intercept?: FakeInterceptor;
};

export type FakeVercelBlob = FakeServer & {
  /** Value for VERCEL_BLOB_API_URL. */
  apiUrl: string;
  storeId: string;
  blobs: Map<string, FakeStoredBlob>;
};

const notFoundMessage = "The requested blob does not exist";

function blobError(status: number, code: string, message: string): FakeReply {
  return json(status, { error: { code, message } });
}

function storeIdOf(token: string): string {
  const storeId = token.split("_")[3];
  if (!storeId) throw new Error("fake Vercel Blob token must look like vercel_blob_rw_<storeId>_<secret>");
  return storeId;
}

function guessContentType(pathname: string): string {
  const types: Record<string, string> = {
    txt: "text/plain",
    json: "application/json",
    png: "image/png",
    jsonl: "application/x-ndjson",
  };
  return types[pathname.split(".").pop() ?? ""] ?? "application/octet-stream";
}

async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

type Reply = FakeReply | { status: number; bytes: Buffer; headers: Record<string, string> };

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if ("hang" in reply) return;
  if ("drop" in reply) {
    req.socket.destroy();
    return;
  }
  if ("bytes" in reply) {
    res.writeHead(reply.status, { ...reply.headers, "content-length": String(reply.bytes.length) });
    res.end(reply.bytes);
    return;
  }
  const headers: Record<string, string | string[]> = { ...reply.headers };
  let payload = reply.text ?? "";
  if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export async function startFakeVercelBlob(options: FakeVercelBlobOptions): Promise<FakeVercelBlob> {
  const storeId = storeIdOf(options.token);
  const storeAccess = options.storeAccess ?? "private";
  const blobs = new Map<string, FakeStoredBlob>();
  const requests: RecordedRequest[] = [];
  let origin = "";

  const blobUrl = (blob: FakeStoredBlob) =>
    `${origin}/${storeId}.${blob.access}.blob.vercel-storage.com/${blob.pathname}`;
  const blobJson = (blob: FakeStoredBlob) => ({
    url: blobUrl(blob),
    downloadUrl: `${blobUrl(blob)}?download=1`,
    pathname: blob.pathname,
    contentType: blob.contentType,
    contentDisposition: `inline; filename="${blob.pathname.split("/").pop() ?? ""}"`,
    etag: blob.etag,
  });
  /** `url` params and delete entries may be full blob URLs or bare pathnames. */
  const pathnameOf = (urlOrPathname: string) => {
    if (!/^https?:\/\//.test(urlOrPathname)) return urlOrPathname;
    const { pathname } = new URL(urlOrPathname);
    const hostPrefix = `/${storeId}.`;
    if (!pathname.startsWith(hostPrefix)) return undefined;
    return decodeURIComponent(pathname.slice(pathname.indexOf("/", 1) + 1));
  };

  function putBlob(request: FakeRequest, body: Buffer): FakeReply {
    const pathname = request.url.searchParams.get("pathname") ?? "";
    if (!pathname || pathname.length > 950 || pathname.includes("//")) {
      return blobError(400, "bad_request", "Invalid pathname");
    }
    const access = request.header("x-vercel-blob-access");
    if (access !== "public" && access !== "private") {
      return blobError(400, "bad_request", 'Access must be "public" or "private"');
    }
    if (access !== storeAccess) {
      return blobError(400, "bad_request", `Cannot use ${access} access on a ${storeAccess} store`);
    }
    let finalPath = pathname;
    if (request.header("x-add-random-suffix") !== "0") {
      const dot = pathname.lastIndexOf(".");
      const suffix = `-${Math.random().toString(36).slice(2, 12)}`;
      finalPath =
        dot > pathname.lastIndexOf("/")
          ? `${pathname.slice(0, dot)}${suffix}${pathname.slice(dot)}`
          : `${pathname}${suffix}`;
    }
    if (blobs.has(finalPath) && request.header("x-allow-overwrite") !== "1") {
      return blobError(
        400,
        "bad_request",
        "This blob already exists, use `allowOverwrite: true` if you want to overwrite it. Or `addRandomSuffix: true` to generate a unique filename.",
      );
    }
    const blob: FakeStoredBlob = {
      pathname: finalPath,
      body,
      access,
      contentType: request.header("x-content-type") ?? guessContentType(finalPath),
      uploadedAt: new Date(),
      etag: `"${createHash("sha1").update(body).digest("hex")}"`,
    };
    blobs.set(finalPath, blob);
    return json(200, blobJson(blob));
  }

  function headBlob(urlParam: string): FakeReply {
    const pathname = pathnameOf(urlParam);
    const blob = pathname === undefined ? undefined : blobs.get(pathname);
    if (!blob) return blobError(404, "not_found", notFoundMessage);
    return json(200, {
      ...blobJson(blob),
      size: blob.body.length,
      uploadedAt: blob.uploadedAt.toISOString(),
      cacheControl: "public, max-age=2592000",
    });
  }

  function listBlobs(params: URLSearchParams): FakeReply {
    const prefix = params.get("prefix") ?? "";
    const limit = Math.min(Number(params.get("limit") ?? "1000") || 1000, 1000);
    const cursor = params.get("cursor");
    const after = cursor ? Buffer.from(cursor, "base64url").toString("utf8") : undefined;
    const matching = [...blobs.keys()]
      .filter((pathname) => pathname.startsWith(prefix) && (after === undefined || pathname > after))
      .sort();
    const page = matching.slice(0, limit).flatMap((pathname) => {
      const blob = blobs.get(pathname);
      if (!blob) return [];
      const { url, downloadUrl, etag } = blobJson(blob);
      return [
        {
          url,
          downloadUrl,
          pathname,
          size: blob.body.length,
          uploadedAt: blob.uploadedAt.toISOString(),
          etag,
        },
      ];
    });
    const hasMore = matching.length > limit;
    const last = page.at(-1)?.pathname;
    return json(200, {
      blobs: page,
      hasMore,
      ...(hasMore && last ? { cursor: Buffer.from(last, "utf8").toString("base64url") } : {}),
    });
  }

  function deleteBlobs(body: Buffer): FakeReply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (error) {
      if (error instanceof SyntaxError) return blobError(400, "bad_request", "Invalid JSON body");
      throw error;
    }
    const urls = typeof parsed === "object" && parsed !== null && "urls" in parsed ? parsed.urls : undefined;
    if (!Array.isArray(urls) || !urls.every((url) => typeof url === "string")) {
      return blobError(400, "bad_request", "urls must be an array of strings");
    }
    for (const url of urls) {
      const pathname = pathnameOf(url);
      if (pathname !== undefined) blobs.delete(pathname);
    }
    return json(200, {});
  }

  function serveBody(request: FakeRequest): Reply {
    const afterSlash = request.url.pathname.slice(1);
    const host = afterSlash.slice(0, afterSlash.indexOf("/"));
    const pathname = decodeURIComponent(afterSlash.slice(host.length + 1));
    const blob = blobs.get(pathname);
    if (!blob || host !== `${storeId}.${blob.access}.blob.vercel-storage.com`) {
      return { status: 404, text: "Not Found", headers: { "content-type": "text/plain" } };
    }
    if (blob.access === "private" && request.header("authorization") !== `Bearer ${options.token}`) {
      return { status: 403, text: "Forbidden", headers: { "content-type": "text/plain" } };
    }
    return {
      status: 200,
      bytes: blob.body,
      headers: {
        "content-type": blob.contentType,
        "last-modified": blob.uploadedAt.toUTCString(),
        etag: blob.etag,
        "cache-control": blob.access === "private" ? "private, no-cache" : "public, max-age=2592000",
      },
    };
  }

  async function handle(request: FakeRequest, body: Buffer): Promise<Reply> {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const { pathname } = request.url;
    if (pathname.startsWith(`/${storeId}.`)) {
      return request.method === "GET" ? serveBody(request) : { status: 405, text: "Method Not Allowed" };
    }
    if (pathname !== "/api/blob" && pathname !== "/api/blob/" && pathname !== "/api/blob/delete") {
      return blobError(404, "not_found", "Not found");
    }
    if (request.header("authorization") !== `Bearer ${options.token}`) {
      return blobError(403, "forbidden", "Access denied, please provide a valid token for this resource.");
    }
    if (!request.header("x-api-version"))
      return blobError(400, "bad_request", "Missing x-api-version header");
    if (pathname === "/api/blob/delete" && request.method === "POST") return deleteBlobs(body);
    if (pathname === "/api/blob/" && request.method === "PUT") return putBlob(request, body);
    if (request.method === "GET") {
      const urlParam = request.url.searchParams.get("url");
      return urlParam === null ? listBlobs(request.url.searchParams) : headBlob(urlParam);
    }
    return blobError(400, "bad_request", `Unsupported ${request.method} ${pathname}`);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readRawBody(req);
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: body.toString("utf8"),
      };
      requests.push(recorded);
      const request: FakeRequest = {
        ...recorded,
        url: new URL(recorded.path, "http://fake.local"),
        params: {},
        header(name) {
          const value = req.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(", ") : value;
        },
      };
      send(req, res, await handle(request, body));
    })().catch((error: unknown) => {
      console.error("fake Vercel Blob handler failed", error);
      res.writeHead(599, { "content-type": "text/plain" });
      res.end(`fake server handler failed: ${String(error)}`);
    });
  });
  const listening = await listenOnLoopback(server);
  origin = listening.url;
  return {
    url: origin,
    apiUrl: `${origin}/api/blob`,
    storeId,
    blobs,
    requests,
    close: listening.close,
  };
}
