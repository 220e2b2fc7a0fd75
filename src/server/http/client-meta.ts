import type { SessionMeta } from "@/server/auth/auth-sessions";

type HeaderReader = { get(name: string): string | null };

/**
 * The client's address for rate limiting. Behind a trusted proxy the left-most X-Forwarded-For entry is the
 * client; otherwise only the right-most one (added by the server nearest to us) can be believed.
 */
export function clientMeta(headers: HeaderReader, trustProxy: boolean): SessionMeta {
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const ip = (trustProxy ? forwarded[0] : forwarded.at(-1)) ?? headers.get("x-real-ip") ?? null;
  return { ip, userAgent: headers.get("user-agent") };
}
