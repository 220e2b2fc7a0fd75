import type { SandboxWithOwner } from "@/server/db/queries/events";
import { ProviderError } from "@/server/integrations/provider-error";
import type { Providers } from "@/server/integrations/registry";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";

/** The sandbox a runner reports from, live: the steps that follow its events read files and URLs from it. */
export async function runnerSandboxOf(providers: Providers, row: SandboxWithOwner): Promise<SandboxHandle> {
  const handle = row.external_id ? await providers.sandboxes.get(row.external_id) : null;
  if (!handle)
    throw new ProviderError(
      "local-sandbox",
      "not_found",
      "The build's sandbox is gone (stopped or timed out).",
    );
  return handle;
}
