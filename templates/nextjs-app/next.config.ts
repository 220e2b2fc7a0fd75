import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Database drivers (one of them native) load from node_modules at runtime instead of being bundled.
  serverExternalPackages: ["@libsql/client", "@libsql/kysely-libsql", "libsql", "mysql2"],
  // This folder is the whole app: never pick up a lockfile from a parent directory as the workspace root.
  turbopack: { root: __dirname },
  outputFileTracingRoot: __dirname,
  poweredByHeader: false,
  // The app is shown in Kiln's preview frame while `next dev` serves it: Next's dev badge is no part of the app.
  devIndicators: false,
};

export default nextConfig;
