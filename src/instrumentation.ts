// Runs once when a Next.js server starts: a bad environment stops the server at boot with a readable list of
// what is wrong, instead of failing on the first request that happens to read it. Then the reconciler starts: at
// boot and every minute it fails builds whose sandbox went silent, so nothing stays "running" forever.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { parseEnv } = await import("./server/config/env-schema");
  const env = parseEnv(process.env);
  const { startReconciler } = await import("./server/platform/maintenance-timer");
  startReconciler(env);
}
