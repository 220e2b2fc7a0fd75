// Runs once when a Next.js server starts: a bad environment stops the server at boot with a readable list of
// what is wrong, instead of failing on the first request that happens to read it. Then the reconciler starts: at
// boot and every minute it fails builds whose sandbox went silent, so nothing stays "running" forever. And the boot
// preparation: the template's dependencies and the agents' CLIs installed before the first build needs them.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { parseEnv } = await import("./server/config/env-schema");
  const env = parseEnv(process.env);
  const { startReconciler } = await import("./server/platform/maintenance-timer");
  startReconciler(env);
  // In the background: the server answers at once while the caches a first build needs are filled.
  const { startBootPreparation } = await import("./server/platform/boot-preparation");
  void startBootPreparation(env);
}
