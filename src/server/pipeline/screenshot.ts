import fs from "node:fs";
import { type Browser, chromium, errors } from "playwright-core";
import { ProviderError, type ProviderErrorKind } from "@/server/integrations/provider-error";

// A picture of a running preview, taken with the system Chromium (Kiln never downloads browsers). Every failure is a
// ProviderError tagged "chromium" so the pipeline can treat a missing screenshot as a soft failure.

export type ScreenshotOptions = {
  chromiumPath: string;
  /** The whole capture (start the browser, load the page, take the picture) must fit in this. */
  timeoutMs?: number;
  viewport?: { width: number; height: number };
};

const defaultTimeoutMs = 30_000;
const defaultViewport = { width: 1280, height: 800 };
const vendor = "chromium";

// Keep an offline or firewalled server's Chromium from reaching for Google's services (and stalling on them) at start.
const quietArgs = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Containers often give /dev/shm 64 MB, which a renderer can exhaust.
  "--disable-dev-shm-usage",
];

// The browser renders model-written code: it gets only what it needs to run, never the server's secrets.
const passedEnv = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "XDG_RUNTIME_DIR", "FONTCONFIG_FILE"];

/** The configured Chromium if it exists, else the Debian/Ubuntu system one, else null. */
export function findChromium(configured?: string): string | null {
  const candidates = [configured, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate)) ?? null;
}

/** A PNG of the page's first viewport at `url`, once it has loaded. */
export async function captureScreenshot(url: string, options: ScreenshotOptions): Promise<Buffer> {
  const viewport = options.viewport ?? defaultViewport;
  const deadline = Date.now() + (options.timeoutMs ?? defaultTimeoutMs);
  const remaining = () => Math.max(1, deadline - Date.now());
  const where = describeUrl(url);

  let browser: Browser | undefined;
  try {
    browser = await chromium
      .launch({
        executablePath: options.chromiumPath,
        headless: true,
        // Chromium refuses to run its sandbox as root (a container's default user).
        chromiumSandbox: process.getuid?.() !== 0,
        args: quietArgs,
        env: pickEnv(process.env),
        timeout: remaining(),
      })
      .catch((error: unknown) => {
        throw toProviderError(error, `Chromium (${options.chromiumPath}) did not start`);
      });
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const response = await page
      .goto(url, { waitUntil: "load", timeout: remaining() })
      .catch((error: unknown) => {
        throw toProviderError(error, `Could not load ${where} for a screenshot`);
      });
    if (response && response.status() >= 400) {
      // A picture of an error page would stand in for the app on the checkpoint: refuse it.
      throw new ProviderError(
        vendor,
        "unavailable",
        `Could not screenshot ${where}: it answered HTTP ${response.status()}.`,
        { status: response.status() },
      );
    }
    return await page
      .screenshot({ type: "png", fullPage: false, timeout: remaining() })
      .catch((error: unknown) => {
        throw toProviderError(error, `Could not screenshot ${where}`);
      });
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw toProviderError(error, `Could not screenshot ${where}`);
  } finally {
    // Closing also ends the context and page; it is awaited so no Chromium outlives the call.
    await browser?.close().catch((error: unknown) => {
      // The capture's own outcome matters more than a failed close; Playwright kills the process group anyway.
      console.warn(`[kiln] screenshot: closing Chromium failed: ${firstLine(error)}`);
    });
  }
}

function pickEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of passedEnv) {
    const value = source[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Origin and path only: a query string may carry a token that must not reach logs or events. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch (error) {
    throw new ProviderError(vendor, "invalid", "The preview URL to screenshot is not a valid URL.", {
      cause: error,
    });
  }
}

function toProviderError(error: unknown, what: string): ProviderError {
  const kind = kindOf(error);
  const detail = kind === "timeout" ? "it took too long" : firstLine(error);
  return new ProviderError(vendor, kind, `${what}: ${detail}.`, { cause: error });
}

function kindOf(error: unknown): ProviderErrorKind {
  if (error instanceof errors.TimeoutError) return "timeout";
  const message = error instanceof Error ? error.message : String(error);
  if (/net::ERR_(CONNECTION|NAME_NOT_RESOLVED|ADDRESS|INTERNET_DISCONNECTED|EMPTY_RESPONSE)/.test(message)) {
    return "unavailable";
  }
  if (/ENOENT|EACCES|Failed to launch/.test(message)) return "unsupported";
  return "internal";
}

/**
 * Playwright's messages are "page.goto: net::ERR_… at <url>\nCall log: …": the first line without the API name
 * and the URL (which may carry a token) is what an operator can act on.
 */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = (message.split("\n")[0] ?? "").replace(/^[\w.]+: /, "").replace(/ at https?:\/\/\S+$/, "");
  return line.trim().replace(/\.$/, "") || "unknown error";
}
