import { ProviderError } from "@/server/integrations/provider-error";

/** A preview counts once `/api/health` says the app and its database are up and the first page answers. */
export async function waitForHealthyPreview(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const health = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5_000) });
      await health.body?.cancel();
      const page = health.ok ? await fetch(url, { signal: AbortSignal.timeout(15_000) }) : undefined;
      await page?.body?.cancel();
      if (health.ok && page?.ok) return;
      last = `health ${health.status}${page ? `, page ${page.status}` : ""}`;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new ProviderError("local-sandbox", "timeout", `The preview did not become healthy (${last}).`);
}
