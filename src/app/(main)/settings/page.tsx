import type { Metadata } from "next";
import { agentDefinition, agentKinds, defaultAgentKind } from "@/agents/registry";
import { ApiTokensPanel } from "@/components/settings/api-tokens-panel";
import { CredentialCard } from "@/components/settings/credential-card";
import { ModelDefaultsCard } from "@/components/settings/model-defaults-card";
import { QuotaUsageCard } from "@/components/settings/quota-usage-card";
import { timeAgo } from "@/lib/format";
import { listApiTokens } from "@/server/auth/api-tokens";
import { listCredentialStatuses } from "@/server/credentials/credential-store";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { toQuotaView } from "@/server/governance/quota-view";
import { readQuotaStatus } from "@/server/governance/read-quota-status";
import { getPlatform } from "@/server/platform/get-platform";
import { getModelDefaults } from "@/server/projects/model-defaults";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const operator = await requireOperatorOrRedirect("/settings");
  const platform = await getPlatform();
  const { db } = platform;
  const now = Date.now();
  const [credentials, tokens, defaults, quotas] = await Promise.all([
    listCredentialStatuses(db, platform.credentials, operator.id),
    listApiTokens(db, operator.id),
    getModelDefaults(db, operator.id),
    readQuotaStatus(db, platform.quotas, operator.id, now),
  ]);
  const agents = agentKinds.map((kind) => {
    const definition = agentDefinition(kind);
    return {
      kind,
      label: definition.pickerLabel,
      vendor: definition.vendor,
      defaultModel: definition.defaultModel,
    };
  });

  return (
    <div className="space-y-10">
      <div>
        <h1 className="font-semibold text-2xl tracking-tight">Settings</h1>
        <p className="text-muted-foreground text-sm">
          Credentials are encrypted at rest and never sent back to the browser. Kiln checks each one with its
          service when you save it.
        </p>
      </div>
      <section aria-labelledby="credentials-title" className="space-y-4">
        <h2 id="credentials-title" className="font-semibold text-lg">
          Credentials
        </h2>
        <div className="grid gap-4 lg:grid-cols-2">
          {credentials.map((status) => (
            <CredentialCard key={status.kind} status={status} />
          ))}
        </div>
      </section>
      <section aria-label="Model defaults">
        <ModelDefaultsCard
          agents={agents}
          initial={{
            agent: defaults.agent ?? defaultAgentKind,
            provider: defaults.provider ?? null,
            model: defaults.model ?? null,
          }}
        />
      </section>
      <section aria-label="API tokens">
        <ApiTokensPanel
          tokens={tokens.map((token) => ({
            id: token.id,
            name: token.name,
            displayPrefix: token.displayPrefix,
            createdAt: timeAgo(token.createdAt, now),
            lastUsed: token.lastUsedAt ? timeAgo(token.lastUsedAt, now) : "Never",
          }))}
        />
      </section>
      <section aria-label="Usage and quotas">
        <QuotaUsageCard view={toQuotaView(quotas, now)} />
      </section>
    </div>
  );
}
