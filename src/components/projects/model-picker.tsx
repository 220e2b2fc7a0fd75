"use client";

import { useEffect, useId, useState } from "react";
import { listModelsAction } from "@/actions/models";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";

export type ModelProviderChoice = "openai" | "anthropic" | "openai-compatible";
export type ModelChoice = { provider: ModelProviderChoice; model: string };

const vendorLabels: Record<ModelProviderChoice, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  "openai-compatible": "OpenAI-compatible server",
};

/**
 * Who serves the agent's model and which model: the agent's own vendor or the operator's OpenAI-compatible server,
 * whose `/models` fill the suggestions; any name may be typed (servers without the endpoint, vendors' models).
 * An empty model means the default (the agent's, or the latest checkpoint's in a follow-up).
 */
export function ModelPicker(props: {
  vendor: "openai" | "anthropic";
  value: ModelChoice;
  onChange: (value: ModelChoice) => void;
  /** Placeholder of the model box: what an empty one means. */
  defaultModel: string;
  error?: string;
}) {
  const providerId = useId();
  const modelId = useId();
  const listId = useId();
  const [models, setModels] = useState<string[]>([]);
  const { provider } = props.value;

  useEffect(() => {
    let current = true;
    if (provider !== "openai-compatible") {
      setModels([]);
      return;
    }
    listModelsAction({ provider }).then((result) => {
      if (current && result.ok) setModels(result.data.models);
    });
    return () => {
      current = false;
    };
  }, [provider]);

  const providers: ModelProviderChoice[] = [props.vendor, "openai-compatible"];
  return (
    <div className="flex flex-wrap items-center gap-3">
      <Label htmlFor={providerId} className="text-muted-foreground">
        Model
      </Label>
      <Select
        value={providers.includes(provider) ? provider : props.vendor}
        onValueChange={(value) => {
          const chosen = providers.find((option) => option === value);
          if (chosen) props.onChange({ provider: chosen, model: "" });
        }}
      >
        <SelectTrigger id={providerId} className="w-56" aria-label="Model provider">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          {providers.map((option) => (
            <SelectItem key={option} value={option}>
              {vendorLabels[option]}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Input
        id={modelId}
        aria-label="Model name"
        className="w-56"
        list={listId}
        value={props.value.model}
        onChange={(event) => props.onChange({ provider, model: event.target.value.trim() })}
        placeholder={provider === "openai-compatible" ? "model name (required)" : props.defaultModel}
        required={provider === "openai-compatible"}
        aria-invalid={props.error ? true : undefined}
      />
      <datalist id={listId}>
        {models.map((model) => (
          <option key={model} value={model} />
        ))}
      </datalist>
      {props.error ? (
        <p role="alert" className="w-full text-destructive text-sm">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
