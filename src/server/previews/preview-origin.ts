import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";

/**
 * Where a browser reaches a local preview or deployment: an origin of its own, `<label>.<preview domain>`, never
 * the host name operators use for Kiln. Browsers scope cookies by host name (not port), so Kiln's host-only session
 * cookie never reaches generated code, and the app's own scripts cannot read Kiln's pages (other origin).
 * The label names what is served (`p-` a preview, `d-` a deployment, `a-` a project's published app) and the
 * checkpoint (or project), encrypted: the random part of an id is exactly one AES block, so the label is opaque (the
 * public replay hides ids) and needs no table to map back. The `a-` host is stable: it names the project, and the
 * database says which checkpoint's deployment it serves now (docs/pipeline.md "Publishing").
 *
 * Only loopback upstreams (the local adapters) are served this way; a cloud preview already has its own origin
 * (Vercel's) and is linked as it is.
 */

export type PreviewKind = "preview" | "deploy";
export type PreviewTarget =
  | { kind: PreviewKind; revisionId: string }
  /** The project's published checkpoint, whichever it is now. */
  | { kind: "app"; projectId: string };
export type PreviewOrigins = {
  /** e.g. "localhost" (browsers resolve every *.localhost to loopback) or "preview.example.net". */
  domain: string;
  protocol: "http:" | "https:";
  /** Empty for the protocol's default port. */
  port: string;
  /** AES-256 key for labels, derived from Kiln's secret key. */
  labelKey: Buffer;
};

const labelPrefix: Record<PreviewTarget["kind"], string> = { preview: "p", deploy: "d", app: "a" };
const REVISION_PREFIX = "rev_";
const PROJECT_PREFIX = "prj_";
// `rev_`/`prj_` + 16 Crockford base32 characters (80 bits): the 16 characters are the block that is encrypted.
const idSuffix = /^[0-9a-hjkmnp-tv-z]{16}$/;
const labelPattern = /^([pda])-([0-9a-f]{32})$/;

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

function labelOf(key: Buffer, id: string, prefix: string): string | null {
  const suffix = id.slice(prefix.length);
  if (!id.startsWith(prefix) || !idSuffix.test(suffix)) return null;
  // One block, no padding: ECB of a single, unique block is a keyed permutation, which is all a label needs.
  const cipher = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(suffix, "latin1"), cipher.final()]).toString("hex");
}

/** The id's random part a label was made from, or null for a label this key did not make. */
function suffixOfLabel(key: Buffer, label: string): string | null {
  const decipher = createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const suffix = Buffer.concat([decipher.update(Buffer.from(label, "hex")), decipher.final()]).toString(
    "latin1",
  );
  // A label not made by this key decrypts to noise, which is never 16 base32 characters.
  return idSuffix.test(suffix) ? suffix : null;
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
  return hostUrl(origins, target);
}

function hostUrl(origins: PreviewOrigins, target: PreviewTarget): string | null {
  const label =
    target.kind === "app"
      ? labelOf(origins.labelKey, target.projectId, PROJECT_PREFIX)
      : labelOf(origins.labelKey, target.revisionId, REVISION_PREFIX);
  if (!label) return null;
  const port = origins.port ? `:${origins.port}` : "";
  return `${origins.protocol}//${labelPrefix[target.kind]}-${label}.${origins.domain}${port}/`;
}

/**
 * The project's stable URL on the preview proxy (`a-<label>`), served by whichever checkpoint is published; null
 * for an id that is not a project id.
 */
export function publishedAppUrl(origins: PreviewOrigins, projectId: string): string | null {
  return hostUrl(origins, { kind: "app", projectId });
}

/** Which checkpoint (or published project) a request's Host header names, or null when it is not a preview host (Kiln's own pages). */
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
  const idPart = suffixOfLabel(origins.labelKey, match[2]);
  if (!idPart) return null;
  if (match[1] === "a") return { kind: "app", projectId: `${PROJECT_PREFIX}${idPart}` };
  return { kind: match[1] === "p" ? "preview" : "deploy", revisionId: `${REVISION_PREFIX}${idPart}` };
}
