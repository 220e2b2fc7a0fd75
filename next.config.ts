import type { NextConfig } from "next";

/** Sent with every page and API answer; tests/e2e/security-headers.spec.ts reads them back. */
const securityHeaders = [
  { key: "Content-Security-Policy", value: "frame-ancestors 'self'" },
  { key: "X-Frame-Options", value: "SAMEORIGIN" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Share links carry their secret in the path: never hand a path to another site.
  { key: "Referrer-Policy", value: "same-origin" },
];

const nextConfig: NextConfig = {
  // Native and server-only drivers stay external so Next.js does not try to bundle them.
  serverExternalPackages: [
    "@libsql/client",
    "@libsql/kysely-libsql",
    "libsql",
    "mysql2",
    "bcryptjs",
    "esbuild",
  ],
  poweredByHeader: false,
  // `next dev` prints every server function call with its arguments by default: sign-in passwords and saved API
  // keys would land in the terminal and any log collecting it.
  logging: { serverFunctions: false },
  // Kiln's pages may be framed only by Kiln itself (the workspace frames previews, never the other way round).
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
  typedRoutes: false,
  devIndicators: false,
};

export default nextConfig;
