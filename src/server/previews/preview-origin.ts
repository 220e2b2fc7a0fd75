import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";

/**
 * Where a browser reaches a local preview or deployment: an origin of its own, `<label>.<preview domain>`, never
 * the host name operators use for Kiln. Browsers scope cookies by host name (not port), so Kiln's host-only session
 * cookie never reaches generated code, and the app's own scripts cannot read Kiln's pages (other origin).
 * The label names what is served (`p-` a preview, `d-` a deployment) and the checkpoint, encrypted: a revision id
 * is exactly one AES block, so the label is opaque (the public replay hides ids) and needs no table to map back.
 *
 * Only loopback upstreams (the local adapters) are served this way; a cloud preview already has its own origin
 * (Vercel's) and is linked as it is.
 */

export type PreviewKind = "preview" | "deploy";
export type PreviewTarget = { kind: PreviewKind; revisionId: string };
export type PreviewOrigins = {
  /** e.g. "localhost" (browsers resolve every *.localhost to loopback) or "preview.example.net". */
  domain: string;
  protocol: "http:" | "https:";
  /** Empty for the protocol's default port. */
  port: string;
  /** AES-256 key for labels, derived from Kiln's secret key. */
  labelKey: Buffer;
};

const labelPrefix: Record<PreviewKind, string> = { preview: "p", deploy: "d" };
const REVISION_PREFIX = "rev_";
// `rev_` + 16 Crockford base32 characters (80 bits): the 16 characters are the block that is encrypted.
const revisionSuffix = /^[0-9a-hjkmnp-tv-z]{16}$/;
const labelPattern = /^([pd])-([0-9a-f]{32})$/;

/** The preview origins follow Kiln's public URL (scheme and port), on the configured preview domain. */
export function previewOrigins(publicUrl: string, domain: string, secretKey: Buffer): PreviewOrigins {
  const url = new URL(publicUrl);
  return {
    domain: domain.toLowerCase(),
    protocol: url.protocol === "https:" ? "https:" : "http:",
    port: url.port,
    labelKey: createHmac("sha256", secretKey).update("kiln preview labels v1").digest(),
  };
}

function labelOf(key: Buffer, revisionId: string): string | null {
  const suffix = revisionId.slice(REVISION_PREFIX.length);
  if (!revisionId.startsWith(REVISION_PREFIX) || !revisionSuffix.test(suffix)) return null;
  // One block, no padding: ECB of a single, unique block is a keyed permutation, which is all a label needs.
  const cipher = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(suffix, "latin1"), cipher.final()]).toString("hex");
}

function revisionOfLabel(key: Buffer, label: string): string | null {
  const decipher = createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const suffix = Buffer.concat([decipher.update(Buffer.from(label, "hex")), decipher.final()]).toString(
    "latin1",
  );
  // A label not made by this key decrypts to noise, which is never 16 base32 characters.
  return revisionSuffix.test(suffix) ? `${REVISION_PREFIX}${suffix}` : null;
}

export function isLoopbackUrl(value: string): boolean {
  let host: string;
  try {
    host = new URL(value).hostname;
  } catch (error) {
    if (error instanceof TypeError) return false;
    throw error;
  }
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The public URL of a checkpoint's preview or deployment; a non-loopback upstream is returned unchanged. */
export function publicPreviewUrl(
  origins: PreviewOrigins,
  target: PreviewTarget,
  upstreamUrl: string | null,
): string | null {
  if (!upstreamUrl || !isLoopbackUrl(upstreamUrl)) return upstreamUrl;
  const label = labelOf(origins.labelKey, target.revisionId);
  if (!label) return null;
  const port = origins.port ? `:${origins.port}` : "";
  return `${origins.protocol}//${labelPrefix[target.kind]}-${label}.${origins.domain}${port}/`;
}

/** Which checkpoint a request's Host header names, or null when it is not a preview host (Kiln's own pages). */
export function parsePreviewHost(
  origins: PreviewOrigins,
  hostHeader: string | undefined,
): PreviewTarget | null {
  if (!hostHeader) return null;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, "");
  const suffix = `.${origins.domain}`;
  if (!host.endsWith(suffix)) return null;
  const match = labelPattern.exec(host.slice(0, -suffix.length));
  if (!match?.[1] || !match[2]) return null;
  const revisionId = revisionOfLabel(origins.labelKey, match[2]);
  return revisionId ? { kind: match[1] === "p" ? "preview" : "deploy", revisionId } : null;
}
