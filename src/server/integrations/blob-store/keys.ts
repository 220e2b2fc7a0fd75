import { ProviderError, type Vendor } from "../provider-error";

/**
 * The key rules every BlobStore adapter enforces before touching its backend, so a key that works on one box works
 * on Vercel and back: "/"-separated segments of [A-Za-z0-9._-], no empty, "." or ".." segments, at most 512
 * characters. The local adapter maps segments to file names, which filesystems cap at 255 bytes, hence also at
 * most 200 characters per segment.
 */

export const maxKeyLength = 512;
export const maxSegmentLength = 200;
export const defaultContentType = "application/octet-stream";

const segmentPattern = /^[A-Za-z0-9._-]+$/;
const prefixTailPattern = /^[A-Za-z0-9._-]*$/;
// A MIME type with parameters: visible ASCII and spaces, no control characters (it becomes an HTTP header).
const contentTypePattern = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

export function isValidSegment(segment: string): boolean {
  return (
    segment.length <= maxSegmentLength && segmentPattern.test(segment) && segment !== "." && segment !== ".."
  );
}

export function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= maxKeyLength && key.split("/").every(isValidSegment);
}

/** A prefix is any start of a valid key: whole segments, then possibly part of one (e.g. "sessions/rev-1"). */
export function isValidPrefix(prefix: string): boolean {
  if (prefix.length > maxKeyLength) return false;
  const segments = prefix.split("/");
  const tail = segments.pop() ?? "";
  return segments.every(isValidSegment) && tail.length <= maxSegmentLength && prefixTailPattern.test(tail);
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function assertValidKey(key: string, vendor: Vendor): void {
  if (isValidKey(key)) return;
  throw new ProviderError(
    vendor,
    "invalid",
    `Blob key ${quoted(key)} is not valid: use "/"-separated segments of letters, digits, ".", "_" and "-" ` +
      `(no empty, "." or ".." segments, each at most ${maxSegmentLength} characters), at most ${maxKeyLength} in all.`,
  );
}

export function assertValidPrefix(prefix: string, vendor: Vendor): void {
  if (isValidPrefix(prefix)) return;
  throw new ProviderError(
    vendor,
    "invalid",
    `Blob prefix ${quoted(prefix)} is not valid: it must be the start of a valid key ` +
      `("/"-separated segments of letters, digits, ".", "_" and "-").`,
  );
}

export function resolveContentType(contentType: string | undefined, vendor: Vendor): string {
  if (contentType === undefined) return defaultContentType;
  if (contentTypePattern.test(contentType)) return contentType;
  throw new ProviderError(
    vendor,
    "invalid",
    `Content type ${quoted(contentType)} is not valid: use a MIME type of visible ASCII characters ` +
      "(at most 255), e.g. application/json.",
  );
}

/** Page sizes: at least 1, at most what Vercel Blob serves in one page. */
export function resolveLimit(limit: number | undefined, vendor: Vendor): number {
  if (limit === undefined) return 100;
  if (Number.isInteger(limit) && limit >= 1 && limit <= 1000) return limit;
  throw new ProviderError(vendor, "invalid", `List limit ${limit} is not valid: use a whole number 1–1000.`);
}

export function toBuffer(body: Buffer | string): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}
