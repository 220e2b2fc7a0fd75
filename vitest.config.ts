import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = {
  "@/": `${path.resolve("src")}/`,
  "@migrations/": `${path.resolve("migrations")}/`,
  "server-only": path.resolve("tests/helpers/server-only-stub.ts"),
};

export default defineConfig({
  resolve: { alias },
  test: {
    // Integration files open their own throwaway databases; two workers match this 2-core machine.
    maxWorkers: 2,
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], environment: "node" },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
