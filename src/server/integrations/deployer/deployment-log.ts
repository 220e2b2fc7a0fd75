import { stripAnsi } from "./build-output";

/**
 * A deployment's build and start log as the operator reads it (`GET /api/v1/revisions/:id/deployment`): lines of
 * output, oldest first, with colours stripped and secrets redacted. Bounded: past `maxBytes` the oldest lines go and
 * `truncated` says so.
 */
export type DeploymentLog = { lines: string[]; truncated: boolean };

export type BoundedLogOptions = {
  /** Values that must never show (the deployment's env values: DATABASE_URL…), also URL- or base64-encoded. */
  secrets: readonly string[];
  /** Default 256 KiB of text. */
  maxBytes?: number;
  /** Longer lines are cut. Default 2,000 characters. */
  maxLineLength?: number;
};

const REDACTED = "[redacted]";
/**
 * Shorter values would shred ordinary text: a deployment's env holds plain settings too ("true", "prod"). A short
 * password inside a URL is still caught by `urlPassword`.
 */
const MIN_SECRET_LENGTH = 8;
/** The password of any `scheme://user:password@host` URL, whoever's it is. */
const urlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)[^\s/@"']+(?=@)/gi;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Redacts each secret (also URL-encoded) and every URL's password. Kept apart from the events' redactor
 * (events/redact.ts), which the integrations layer does not import; a build log holds no operator tokens.
 */
export function createLogRedactor(secrets: readonly string[]): (text: string) => string {
  const literals = [
    ...new Set(
      secrets
        .filter((value) => value.length >= MIN_SECRET_LENGTH)
        .flatMap((value) => [value, encodeURIComponent(value)]),
    ),
  ].sort((a, b) => b.length - a.length);
  const known = literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join("|"), "g") : null;
  return (text) => (known ? text.replace(known, REDACTED) : text).replace(urlPassword, `$1${REDACTED}`);
}

// A line still open this long (no newline yet) is redacted and cut there; the rest of it up to its newline is
// dropped, so a secret can never be split across two pieces that are each redacted on their own.
const MAX_OPEN_LINE = 64 * 1024;

/**
 * The values to redact from a deployment's environment: each value and, for a URL, its password (an app may
 * print the password on its own, e.g. in a driver's error).
 */
export function secretsOfEnv(env: Record<string, string>): string[] {
  return Object.values(env).flatMap((value) => {
    const out = [value];
    try {
      const password = new URL(value).password;
      if (password) out.push(password, decodeURIComponent(password));
    } catch (error) {
      // Not a URL (or a malformed escape in its password): the value itself is all there is to redact.
      if (!(error instanceof TypeError || error instanceof URIError)) throw error;
    }
    return out;
  });
}

/**
 * Collects output chunks from several streams into whole lines. Only whole lines are redacted and kept: a secret
 * split over two chunks is whole again by then. A line still open is not shown until it ends (or `end()`).
 */
export class BoundedLog {
  private readonly redact: (text: string) => string;
  private readonly maxBytes: number;
  private readonly maxLineLength: number;
  private readonly lines: string[] = [];
  private bytes = 0;
  private dropped = false;
  /** Per stream: the text after its last newline, and whether the rest of an over-long line is being skipped. */
  private readonly open = new Map<string, { text: string; skipping: boolean }>();

  constructor(options: BoundedLogOptions) {
    this.redact = createLogRedactor(options.secrets);
    this.maxBytes = options.maxBytes ?? 256 * 1024;
    this.maxLineLength = options.maxLineLength ?? 2_000;
  }

  /** Output of a command, in chunks as they come (`stream` keeps stdout's and stderr's open lines apart). */
  append(stream: string, chunk: string): void {
    const state = this.open.get(stream) ?? { text: "", skipping: false };
    const parts = (state.text + chunk).split(/\r\n|\n|\r/);
    const rest = parts.pop() ?? "";
    for (const part of parts) {
      if (state.skipping) state.skipping = false;
      else this.push(part);
    }
    if (state.skipping) {
      state.text = "";
    } else if (rest.length > MAX_OPEN_LINE) {
      this.push(rest, true);
      state.text = "";
      state.skipping = true;
    } else {
      state.text = rest;
    }
    this.open.set(stream, state);
  }

  /** A line of Kiln's own (`$ npm run build`), between the commands' output. */
  note(line: string): void {
    this.push(line);
  }

  /** The commands ended: their open lines are whole now. */
  end(): void {
    for (const [stream, state] of this.open) {
      if (!state.skipping && state.text) this.push(state.text);
      this.open.delete(stream);
    }
  }

  snapshot(): DeploymentLog {
    return { lines: [...this.lines], truncated: this.dropped };
  }

  private push(raw: string, cut = false): void {
    const clean = this.redact(stripAnsi(raw)).trimEnd();
    if (clean.trim() === "") return;
    const line = cut || clean.length > this.maxLineLength ? `${clean.slice(0, this.maxLineLength)}…` : clean;
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line);
    while (this.bytes > this.maxBytes && this.lines.length > 1) {
      this.bytes -= Buffer.byteLength(this.lines.shift() ?? "");
      this.dropped = true;
    }
  }
}

/** Bounds a log read from elsewhere (Vercel's events) the same way, redacting `secrets`. */
export function boundedLogOf(lines: readonly string[], secrets: readonly string[]): DeploymentLog {
  const log = new BoundedLog({ secrets });
  for (const line of lines) log.note(line);
  return log.snapshot();
}
