import { createHash, randomBytes } from "node:crypto";

/**
 * HTTP Digest access authentication (RFC 7616) as a fetch wrapper, for the TiDB Cloud API
 * (public key = username, private key = password).
 *
 * Policy: at most three requests per call — the first (pre-authenticated when a challenge for the origin is
 * cached), one retry with a fresh challenge, and one more only when the server says the nonce was merely stale.
 * A wrong password therefore surfaces as the server's 401 after two requests, never a loop.
 */

export type AuthChallenge = {
  /** Lower-cased auth scheme, e.g. "digest". */
  scheme: string;
  /** Parameters with lower-cased names and unquoted values. */
  params: Map<string, string>;
  token68?: string;
};

export type DigestAlgorithm =
  | "MD5"
  | "MD5-sess"
  | "SHA-256"
  | "SHA-256-sess"
  | "SHA-512-256"
  | "SHA-512-256-sess";
export type DigestQop = "auth" | "auth-int";

export type DigestChallenge = {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** Undefined for an RFC 2069 server that offers no qop. */
  qop?: DigestQop;
  stale: boolean;
  userhash: boolean;
};

export type DigestResponseInput = {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  cnonce: string;
  nc: number;
  qop?: DigestQop;
  method: string;
  uri: string;
  body?: string;
};

export type DigestFetchInit = Omit<RequestInit, "body"> & { body?: string | undefined };
export type DigestFetch = (url: string | URL, init?: DigestFetchInit) => Promise<Response>;
export type DigestFetchOptions = { username: string; password: string; fetch?: typeof fetch };

/** Keyed by the lower-cased `algorithm` parameter: servers differ in how they spell it. */
const algorithms = new Map<string, { name: DigestAlgorithm; hash: string; strength: number }>([
  ["md5", { name: "MD5", hash: "md5", strength: 1 }],
  ["md5-sess", { name: "MD5-sess", hash: "md5", strength: 1 }],
  ["sha-256", { name: "SHA-256", hash: "sha256", strength: 2 }],
  ["sha-256-sess", { name: "SHA-256-sess", hash: "sha256", strength: 2 }],
  ["sha-512-256", { name: "SHA-512-256", hash: "sha512-256", strength: 3 }],
  ["sha-512-256-sess", { name: "SHA-512-256-sess", hash: "sha512-256", strength: 3 }],
]);

const tokenChar = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const token68AfterScheme = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/;

/**
 * Parses a `WWW-Authenticate` value into its challenges. Tolerates several challenges in one header (fetch joins
 * repeated headers with ", "), commas and escaped quotes inside quoted strings, unquoted values and stray spaces.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;
  const n = header.length;
  const at = (index: number) => header.charAt(index);
  const skipSpaces = () => {
    while (i < n && (at(i) === " " || at(i) === "\t")) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && tokenChar.test(at(i))) i++;
    return header.slice(start, i);
  };
  const readQuoted = () => {
    i++; // opening quote
    let value = "";
    while (i < n) {
      const char = at(i);
      if (char === "\\" && i + 1 < n) {
        value += at(i + 1);
        i += 2;
      } else if (char === '"') {
        i++;
        return value;
      } else {
        value += char;
        i++;
      }
    }
    return value; // unterminated: keep what arrived
  };
  const skipToComma = () => {
    while (i < n && at(i) !== ",") i++;
  };

  while (i < n) {
    skipSpaces();
    if (i >= n) break;
    if (at(i) === ",") {
      i++;
      continue;
    }
    const name = readToken();
    if (!name) {
      skipToComma();
      continue;
    }
    skipSpaces();
    if (at(i) !== "=") {
      current = { scheme: name.toLowerCase(), params: new Map() };
      challenges.push(current);
      const token68 = token68AfterScheme.exec(header.slice(i));
      if (token68) {
        current.token68 = token68[0];
        i += token68[0].length;
      }
      continue;
    }
    i++; // "="
    skipSpaces();
    let value: string;
    if (at(i) === '"') {
      value = readQuoted();
    } else {
      const start = i;
      while (i < n && at(i) !== "," && at(i) !== " " && at(i) !== "\t") i++;
      value = header.slice(start, i);
    }
    // A parameter before any scheme belongs to nothing; a repeated one keeps its first value.
    if (current && !current.params.has(name.toLowerCase())) current.params.set(name.toLowerCase(), value);
    skipSpaces();
    if (i < n && at(i) !== ",") skipToComma();
  }
  return challenges;
}

/** Picks the strongest Digest challenge this client can answer, or undefined when there is none. */
export function selectDigestChallenge(header: string | null): DigestChallenge | undefined {
  if (!header) return undefined;
  let best: { challenge: DigestChallenge; strength: number } | undefined;
  for (const challenge of parseWwwAuthenticate(header)) {
    if (challenge.scheme !== "digest") continue;
    const realm = challenge.params.get("realm");
    const nonce = challenge.params.get("nonce");
    if (realm === undefined || !nonce) continue;
    const algorithm = algorithms.get((challenge.params.get("algorithm") ?? "MD5").trim().toLowerCase());
    if (!algorithm) continue;
    const qopParam = challenge.params.get("qop");
    let qop: DigestQop | undefined;
    if (qopParam !== undefined) {
      const offered = qopParam.split(",").map((value) => value.trim().toLowerCase());
      if (offered.includes("auth")) qop = "auth";
      else if (offered.includes("auth-int")) qop = "auth-int";
      else continue;
    }
    const candidate: DigestChallenge = {
      realm,
      nonce,
      algorithm: algorithm.name,
      stale: challenge.params.get("stale")?.toLowerCase() === "true",
      userhash: challenge.params.get("userhash")?.toLowerCase() === "true",
      ...(qop ? { qop } : {}),
      ...(challenge.params.has("opaque") ? { opaque: challenge.params.get("opaque") } : {}),
    };
    if (!best || algorithm.strength > best.strength)
      best = { challenge: candidate, strength: algorithm.strength };
  }
  return best?.challenge;
}

function hasher(algorithm: DigestAlgorithm): (value: string) => string {
  const spec = algorithms.get(algorithm.toLowerCase());
  if (!spec) throw new Error(`Unsupported digest algorithm ${algorithm}`);
  return (value) => createHash(spec.hash).update(value, "utf8").digest("hex");
}

export function formatNonceCount(nc: number): string {
  return nc.toString(16).padStart(8, "0");
}

/** The `response` value of RFC 7616 §3.4.1 (and RFC 2069 when no qop is used). */
export function computeDigestResponse(input: DigestResponseInput): string {
  const h = hasher(input.algorithm);
  let ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  if (input.algorithm.endsWith("-sess")) ha1 = h(`${ha1}:${input.nonce}:${input.cnonce}`);
  const ha2 =
    input.qop === "auth-int"
      ? h(`${input.method}:${input.uri}:${h(input.body ?? "")}`)
      : h(`${input.method}:${input.uri}`);
  if (!input.qop) return h(`${ha1}:${input.nonce}:${ha2}`);
  return h(`${ha1}:${input.nonce}:${formatNonceCount(input.nc)}:${input.cnonce}:${input.qop}:${ha2}`);
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

type Session = { challenge: DigestChallenge; nc: number; sessionCnonce: string };

function newSession(challenge: DigestChallenge): Session {
  return { challenge, nc: 0, sessionCnonce: randomBytes(16).toString("hex") };
}

function authorizationFor(
  session: Session,
  credentials: { username: string; password: string },
  request: { method: string; uri: string; body?: string },
): string {
  const { challenge } = session;
  session.nc += 1;
  // The -sess variants key HA1 on the cnonce of the first request after the challenge, so keep that one.
  const cnonce = challenge.algorithm.endsWith("-sess")
    ? session.sessionCnonce
    : randomBytes(16).toString("hex");
  const response = computeDigestResponse({
    algorithm: challenge.algorithm,
    username: credentials.username,
    password: credentials.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    cnonce,
    nc: session.nc,
    method: request.method,
    uri: request.uri,
    ...(challenge.qop ? { qop: challenge.qop } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const username = challenge.userhash
    ? hasher(challenge.algorithm)(`${credentials.username}:${challenge.realm}`)
    : credentials.username;
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `response=${quote(response)}`,
  ];
  if (challenge.qop)
    parts.push(`qop=${challenge.qop}`, `nc=${formatNonceCount(session.nc)}`, `cnonce=${quote(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) parts.push("userhash=true");
  return `Digest ${parts.join(", ")}`;
}

async function discardBody(response: Response): Promise<void> {
  // Releases the connection of a response we are about to replace with a retry.
  await response.body?.cancel();
}

export function createDigestFetch(options: DigestFetchOptions): DigestFetch {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const credentials = { username: options.username, password: options.password };
  // Keyed by origin so a cached challenge never pre-authenticates a request to another host.
  const sessions = new Map<string, Session>();

  return async function digestFetch(url, init = {}) {
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      throw new TypeError(
        "Digest fetch sends only string bodies: a request may have to be sent more than once",
      );
    }
    const target = new URL(url);
    const request = {
      method: (init.method ?? "GET").toUpperCase(),
      uri: `${target.pathname}${target.search}`,
      ...(typeof init.body === "string" ? { body: init.body } : {}),
    };
    const send = (authorization: string | undefined) => {
      const headers = new Headers(init.headers);
      if (authorization) headers.set("authorization", authorization);
      return baseFetch(target, { ...init, headers });
    };

    let session = sessions.get(target.origin);
    let response = await send(session ? authorizationFor(session, credentials, request) : undefined);
    let usedFreshRetry = false;
    let usedStaleRetry = false;
    while (response.status === 401) {
      const challenge = selectDigestChallenge(response.headers.get("www-authenticate"));
      if (!challenge) break;
      if (!usedFreshRetry) usedFreshRetry = true;
      else if (challenge.stale && !usedStaleRetry) usedStaleRetry = true;
      else break;
      await discardBody(response);
      session = newSession(challenge);
      sessions.set(target.origin, session);
      response = await send(authorizationFor(session, credentials, request));
    }

    if (response.status === 401) {
      // The credentials were refused: don't keep pre-authenticating with them.
      if (session && sessions.get(target.origin) === session) sessions.delete(target.origin);
      return response;
    }
    const nextNonce = selectNextNonce(response.headers.get("authentication-info"));
    if (session && nextNonce && sessions.get(target.origin) === session) {
      sessions.set(target.origin, newSession({ ...session.challenge, nonce: nextNonce, stale: false }));
    }
    return response;
  };
}

function selectNextNonce(header: string | null): string | undefined {
  if (!header) return undefined;
  // Authentication-Info carries bare parameters; parse them as the parameters of a dummy scheme.
  const [info] = parseWwwAuthenticate(`Info ${header}`);
  return info?.params.get("nextnonce") || undefined;
}
