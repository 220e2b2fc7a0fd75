import { isNonPublicAddress } from "@/server/credentials/model-url-policy";

/**
 * What a public viewer must not learn about the machine Kiln runs on, wherever it appears in event text: where
 * Kiln keeps its data and checkout, where a sandbox lives on the host, the internal addresses of previews, dev
 * servers and model endpoints, and the model gateway's URL. The operator's own view keeps all of it.
 *
 * - A sandbox's working directory (`…/sandboxes/lsb_…/work`, or `/vercel/sandbox`) becomes the app's directory:
 *   paths inside it are shown relative to it (`src/app/page.tsx`), the directory itself as `.`; the agent's home
 *   inside it (`.kiln/home`) and the sandbox's own home become `~`, its tmp `/tmp`.
 * - Kiln's data dir and checkout become `[data dir]` and `[kiln]`.
 * - The model gateway (any URL whose path starts with /gateway) becomes `[model gateway]`.
 * - A URL or address on a loopback, private or link-local host becomes `[internal address]`, unless it is Kiln's
 *   public origin or one of its subdomains (where previews are served).
 */

export type PublicHost = {
  /** KILN_PUBLIC_URL: its origin and subdomains are public by definition. */
  publicUrl: string;
  /** KILN_PREVIEW_DOMAIN: previews and deployments are served on its subdomains, public by definition too. */
  previewDomain: string;
  /** Absolute paths whose names say something about the host: Kiln's data dir and checkout. */
  dataDir: string;
  platformRoot: string;
};

export const INTERNAL_ADDRESS = "[internal address]";
export const MODEL_GATEWAY = "[model gateway]";

// Characters a path or URL runs through in command lines, logs and JSON (not spaces, quotes or brackets).
const PATH_CHAR = String.raw`[^\s"'\`<>()[\]{},;|]`;
const SANDBOX_WORK = `(?:/${PATH_CHAR}*?)?/sandboxes/lsb_[0-9a-f]{20}/work|/vercel/sandbox`;
const SANDBOX_DIR = `(?:/${PATH_CHAR}*?)?/sandboxes/lsb_[0-9a-f]{20}`;

const agentHome = new RegExp(String.raw`(?:${SANDBOX_WORK})/\.kiln/home(?=/|\b|$)`, "g");
const workFile = new RegExp(`(?:${SANDBOX_WORK})/(?=${PATH_CHAR})`, "g");
const workDir = new RegExp(String.raw`(?:${SANDBOX_WORK})(?![\w-])`, "g");
const sandboxHome = new RegExp(String.raw`(?:${SANDBOX_DIR})/home(?![\w-])`, "g");
const sandboxTmp = new RegExp(String.raw`(?:${SANDBOX_DIR})/tmp(?![\w-])`, "g");
// Claude Code names a project's session folder after its working directory, slashes as dashes.
const dashedWork = /-[\w.-]*?-sandboxes-lsb_[0-9a-f]{20}-work(?![\w])/g;

const url = /\bhttps?:\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:"'`<>()[\]{},;|?#]+)(?::\d+)?([^\s"'`<>()[\]{},;|]*)/g;
const bareAddress =
  /(?<![\w.:/-])(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|localhost)(?::\d{1,5})?(?![\w.-])/g;

function isInternalHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  // A name we cannot resolve here stays: only literal internal addresses are known to be internal.
  return /^[\d.]+$/.test(bare) || bare.includes(":") ? isNonPublicAddress(bare) : false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createHostScrubber(host: PublicHost): (text: string) => string {
  const publicUrl = new URL(host.publicUrl);
  const publicHost = publicUrl.hostname.toLowerCase();
  const isPublicOrigin = (hostname: string, port: string): boolean => {
    const name = hostname.toLowerCase();
    return (
      (name === publicHost && port === publicUrl.port) ||
      name.endsWith(`.${publicHost}`) ||
      name.endsWith(`.${host.previewDomain}`)
    );
  };
  // Longest first: the data dir usually lives inside the checkout.
  const hostPaths = (
    [
      [host.dataDir, "[data dir]"],
      [host.platformRoot, "[kiln]"],
    ] as const
  )
    .filter(([dir]) => dir.length > 1 && dir.startsWith("/"))
    .sort((a, b) => b[0].length - a[0].length);
  const hostPathPattern =
    hostPaths.length === 0
      ? undefined
      : new RegExp(
          `(?:${hostPaths.map(([dir]) => escapeRegExp(dir.replace(/\/+$/, ""))).join("|")})(?![\\w.-])`,
          "g",
        );

  return (text) => {
    let out = text
      .replace(agentHome, "~")
      .replace(sandboxHome, "~")
      .replace(sandboxTmp, "/tmp")
      .replace(workFile, "")
      .replace(workDir, ".")
      .replace(dashedWork, "-app");
    if (hostPathPattern) {
      out = out.replace(hostPathPattern, (match) => {
        const found = hostPaths.find(([dir]) => dir.replace(/\/+$/, "") === match);
        return found ? found[1] : match;
      });
    }
    out = out.replace(url, (match, hostname: string, rest: string) => {
      if (/^\/gateway(?:\/|$|\?)/.test(rest)) return MODEL_GATEWAY;
      const parsed = URL.canParse(match) ? new URL(match) : undefined;
      if (parsed && isPublicOrigin(parsed.hostname, parsed.port)) return match;
      return isInternalHost(hostname) ? INTERNAL_ADDRESS : match;
    });
    return out.replace(bareAddress, (match) => {
      const hostname = match.replace(/:\d{1,5}$/, "");
      return isInternalHost(hostname) ? INTERNAL_ADDRESS : match;
    });
  };
}

/** A checkpoint's preview or deploy link for the public: kept when public, omitted when internal. */
export function publicLink(link: string | null, host: PublicHost): string | null {
  if (!link || !URL.canParse(link)) return null;
  const scrubbed = createHostScrubber(host)(link);
  return scrubbed === link ? link : null;
}
