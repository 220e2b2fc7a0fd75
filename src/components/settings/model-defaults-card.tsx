"use client";

import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { saveModelDefaultsAction } from "@/actions/model-defaults";
import { type AgentOption, AgentSelect } from "@/components/projects/agent-select";
import { type ModelChoice, ModelPicker } from "@/components/projects/model-picker";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";

type AgentKind = "codex" | "claude-code";

/** Settings: what new projects use when the create box or the API names no agent, provider or model. */
export function ModelDefaultsCard(props: {
  agents: AgentOption<AgentKind>[];
  initial: { agent: AgentKind; provider: ModelChoice["provider"] | null; model: string | null };
}) {
  const agentId = useId();
  const [agent, setAgent] = useState(props.initial.agent);
  const chosen = props.agents.find((option) => option.kind === agent) ?? props.agents[0];
  const vendor = chosen?.vendor ?? "openai";
  const [choice, setChoice] = useState<ModelChoice>({
    provider: props.initial.provider ?? vendor,
    model: props.initial.model ?? "",
  });
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function save() {
    startTransition(async () => {
      const provider = choice.provider === "openai-compatible" ? "openai-compatible" : vendor;
      const result = await saveModelDefaultsAction({ agent, provider, model: choice.model });
      if (!result.ok) {
        const fields = result.error.fields ?? {};
        setError(fields.model?.[0] ?? fields.provider?.[0] ?? result.error.message);
        return;
      }
      setError(null);
      toast.success("Defaults saved");
    });
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Defaults for new projects</CardTitle>
        <CardDescription>
          The agent and model a new project uses unless you pick others in the create box (or the API request
          names them).
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        <div className="flex flex-wrap items-center gap-3">
          <Label htmlFor={agentId} className="text-muted-foreground">
            Agent
          </Label>
          <AgentSelect
            id={agentId}
            label="Default coding agent"
            options={props.agents}
            value={agent}
            onChange={(next) => {
              setAgent(next.kind);
              if (choice.provider !== "openai-compatible") setChoice({ provider: next.vendor, model: "" });
            }}
          />
        </div>
        <ModelPicker
          vendor={vendor}
          value={choice.provider === "openai-compatible" ? choice : { ...choice, provider: vendor }}
          onChange={setChoice}
          defaultModel={chosen?.defaultModel ?? ""}
          error={error ?? undefined}
        />
      </CardContent>
      <CardFooter>
        <Button type="button" onClick={save} disabled={pending}>
          {pending ? <Spinner label="Saving" /> : null}
          Save defaults
        </Button>
      </CardFooter>
    </Card>
  );
}
