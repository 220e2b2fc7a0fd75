import type { NextConfig } from "next";

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
  typedRoutes: false,
  devIndicators: false,
};

export default nextConfig;
