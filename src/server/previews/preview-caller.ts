import { type PreviewOrigins, parsePreviewHost } from "./preview-origin";

/**
 * Whether a request to Kiln itself was made by a page of a preview or deployment: its Origin header names a host
 * the preview proxy serves. Kiln's front refuses such requests and WebSocket upgrades before Next.js sees them.
 * Browsers send Origin with every cross-origin fetch, form post and WebSocket, so generated code cannot reach
 * Kiln's pages, API or `next dev`'s reload socket (which Next.js opens to any `*.localhost` page by default) with
 * the operator's cookies; anything without an Origin (the runner's webhook, the agents' gateway calls, a browser's
 * own navigation) is not concerned.
 */
export function isPreviewCaller(
  origins: PreviewOrigins,
  originHeader: string | string[] | undefined,
): boolean {
  if (typeof originHeader !== "string" || !URL.canParse(originHeader)) return false;
  return parsePreviewHost(origins, new URL(originHeader).host) !== null;
}
