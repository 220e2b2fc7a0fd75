import type { NextConfig } from "next";

/** Sent with every page and API answer; tests/e2e/security-headers.spec.ts reads them back. */
const securityHeaders = [
  { key: "Content-Security-Policy", value: "frame-ancestors 'self'" },
  { key: "X-Frame-Options", value: "SAMEORIGIN" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Share links carry their secret in the path: never hand a path to another site.
  { key: "Referrer-Policy", value: "same-origin" },
];

/**
 * Origins besides `localhost` (and `*.localhost`, Next.js's own defaults) whose pages may use `next dev`'s resources:
 * its reload socket and `/_next` endpoints. Without them a page opened at http://127.0.0.1:<port> never hydrates
 * (Next.js refuses its reload socket and the client never starts). Only this machine's loopback addresses and the
 * host KILN_PUBLIC_URL names (where the operator said Kiln is reached; the front sets it to the listening port when
 * unset, scripts/lib/next-server.ts): never arbitrary origins. Ignored by `next start`.
 */
function devOrigins(): string[] {
  const origins = ["127.0.0.1", "[::1]"];
  const publicUrl = process.env.KILN_PUBLIC_URL?.trim();
  if (!publicUrl || !URL.canParse(publicUrl)) return origins;
  const { hostname } = new URL(publicUrl);
  return origins.includes(hostname) ? origins : [...origins, hostname];
}

/**
 * KILN_DEV_COMPILE_CACHE (on by default; parsed in env-schema.ts): `next dev` keeps Turbopack's persistent compile
 * cache in `.next/dev`, so a restart compiles only what changed. `0` compiles from scratch at every start: for a
 * machine where a cache left by a killed dev server makes the next one panic. `next build` and `next start` ignore it.
 */
function devCompileCache(): boolean {
  const value = process.env.KILN_DEV_COMPILE_CACHE?.trim().toLowerCase();
  return !(value === "0" || value === "false" || value === "no");
}

const nextConfig: NextConfig = {
  // Native and server-only drivers stay external so Next.js does not try to bundle them.
  serverExternalPackages: [
    "@libsql/client",
    "@libsql/kysely-libsql",
    "libsql",
    "mysql2",
    "bcryptjs",
    "esbuild",
    // Syntax highlighting runs on the server only; its grammars and wasm load from node_modules at run time.
    "shiki",
  ],
  poweredByHeader: false,
  allowedDevOrigins: devOrigins(),
  // `next dev` prints every server function call with its arguments by default: sign-in passwords and saved API
  // keys would land in the terminal and any log collecting it.
  logging: { serverFunctions: false },
  // Kiln's pages may be framed only by Kiln itself (the workspace frames previews, never the other way round).
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
  experimental: { turbopackFileSystemCacheForDev: devCompileCache() },
  typedRoutes: false,
  devIndicators: false,
};

export default nextConfig;
