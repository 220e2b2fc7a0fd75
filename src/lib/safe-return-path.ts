const BASE = "http://kiln.invalid";

function hasControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/**
 * Only same-site paths may be returned to after sign-in. The candidate is resolved the way a browser would
 * (which drops tabs and newlines and reads a backslash as a slash); anything landing on another origin is refused.
 */
export function safeReturnPath(candidate: string | undefined, fallback = "/projects"): string {
  if (!candidate?.startsWith("/") || hasControlOrBackslash(candidate)) return fallback;
  let resolved: URL;
  try {
    resolved = new URL(candidate, BASE);
  } catch (error) {
    if (error instanceof TypeError) return fallback;
    throw error;
  }
  if (resolved.origin !== BASE) return fallback;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
