"use client";

import { useRouter } from "next/navigation";
import { useId, useRef, useState, useTransition } from "react";
import { toast } from "sonner";
import { createProjectAction } from "@/actions/projects";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";
import type { ImportSource } from "@/server/integrations/git-host/import-source";
import type { ProviderAvailability } from "@/server/integrations/providers";
import { type AgentOption, AgentSelect } from "./agent-select";
import { ImportSourceFields } from "./import-source-fields";
import { type ModelChoice, ModelPicker } from "./model-picker";
import { type ProviderOverrides, ProviderPicker } from "./provider-picker";

/** An agent the create action accepts: its input type says which (the agent registry's kinds). */
type AgentKind = NonNullable<Exclude<Parameters<typeof createProjectAction>[0], FormData>["agent"]>;

/** The coding agents to offer (from the agent registry, read by the page) and the one chosen at first. */
export type AgentChoices = {
  options: AgentOption<AgentKind>[];
  initial: AgentKind;
  /** The operator's default provider and model (Settings), if any. */
  initialModel?: ModelChoice;
};

export function NewProjectForm({
  size = "default",
  availability,
  agents,
  examples,
  onCreated,
}: {
  size?: "default" | "hero";
  availability: ProviderAvailability;
  agents: AgentChoices;
  /** Prompts offered under the box; clicking one fills it. */
  examples?: readonly { label: string; prompt: string }[];
  onCreated?: () => void;
}) {
  const router = useRouter();
  const promptId = useId();
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const agentId = useId();
  const [prompt, setPrompt] = useState("");
  const [agent, setAgent] = useState(agents.initial);
  const chosenAgent = agents.options.find((option) => option.kind === agent) ?? agents.options[0];
  const vendor = chosenAgent?.vendor ?? "openai";
  const [modelChoice, setModelChoice] = useState<ModelChoice>(
    agents.initialModel ?? { provider: vendor, model: "" },
  );
  const [error, setError] = useState<string | null>(null);
  const [providers, setProviders] = useState<ProviderOverrides>({});
  const [providerErrors, setProviderErrors] = useState<Record<string, string[] | undefined>>({});
  const [pending, startTransition] = useTransition();
  // "Import a repository" (docs/import.md): the prompt then says what to change in it.
  const [source, setSource] = useState<ImportSource | null>(null);

  function chooseImport(importing: boolean) {
    setSource(
      importing ? (availability.github ? { kind: "github", fullName: "" } : { kind: "git", url: "" }) : null,
    );
    setProviderErrors({});
    setError(null);
    if (importing && !prompt.trim()) setPrompt("Get this app running.");
    if (!importing && prompt === "Get this app running.") setPrompt("");
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    startTransition(async () => {
      const provider = modelChoice.provider === "openai-compatible" ? "openai-compatible" : vendor;
      const result = await createProjectAction({
        prompt,
        agent,
        providers,
        provider,
        ...(modelChoice.model ? { model: modelChoice.model } : {}),
        ...(source ? { source } : {}),
      });
      if (!result.ok) {
        const fields = result.error.fields ?? {};
        setProviderErrors(fields);
        const providerTrouble = Object.keys(fields).some((field) => field.startsWith("providers."));
        // The repository's problems are shown inline, under the import fields.
        if (Object.keys(fields).some((field) => field.startsWith("source"))) {
          setError(null);
          return;
        }
        setError(
          fields.prompt?.[0] ??
            fields.model?.[0] ??
            fields.provider?.[0] ??
            (providerTrouble ? "A provider choice cannot work: see below." : result.error.message),
        );
        return;
      }
      setError(null);
      setProviderErrors({});
      toast.success("Project created and queued");
      onCreated?.();
      router.push(`/projects/${result.data.projectId}/tasks/${result.data.taskId}`);
    });
  }

  return (
    <form onSubmit={onSubmit} className="grid gap-3" aria-label="New project">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <Label htmlFor={promptId} className={cn(size === "hero" && !source && "sr-only")}>
          {source ? "What should the agent change?" : "What should Kiln build?"}
        </Label>
        <Button
          type="button"
          variant="link"
          size="sm"
          className={cn("h-auto px-0", size === "hero" && !source && "ml-auto")}
          onClick={() => chooseImport(!source)}
        >
          {source ? "Describe a new app instead" : "Import a repository"}
        </Button>
      </div>
      {source ? (
        <ImportSourceFields
          value={source}
          onChange={(next) => {
            setSource(next);
            setProviderErrors({});
          }}
          githubAvailable={availability.github}
          errors={providerErrors}
        />
      ) : null}
      <Textarea
        ref={promptRef}
        id={promptId}
        name="prompt"
        value={prompt}
        onChange={(event) => setPrompt(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && (event.metaKey || event.ctrlKey))
            event.currentTarget.form?.requestSubmit();
        }}
        placeholder="A todo app with due dates and a dark mode…"
        className={cn("resize-y", size === "hero" ? "min-h-36 text-base" : "min-h-28")}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${promptId}-error` : undefined}
        maxLength={20_000}
        required
      />
      {examples?.length && !source ? (
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span className="text-muted-foreground">Try an example:</span>
          {examples.map((example) => (
            <Button
              key={example.label}
              type="button"
              variant="outline"
              size="sm"
              className="rounded-full"
              title={example.prompt}
              onClick={() => {
                setPrompt(example.prompt);
                setError(null);
                promptRef.current?.focus();
              }}
            >
              {example.label}
            </Button>
          ))}
        </div>
      ) : null}
      {error ? (
        <p id={`${promptId}-error`} role="alert" className="text-destructive text-sm">
          {error}
        </p>
      ) : null}
      <div className="flex flex-wrap items-center gap-3">
        <Label htmlFor={agentId} className="text-muted-foreground">
          Agent
        </Label>
        <AgentSelect
          id={agentId}
          label="Coding agent"
          options={agents.options}
          value={agent}
          onChange={(chosen) => {
            setAgent(chosen.kind);
            // A vendor's model names mean nothing to the other vendor: keep only an OpenAI-compatible choice.
            if (modelChoice.provider !== "openai-compatible")
              setModelChoice({ provider: chosen.vendor, model: "" });
          }}
        />
        <ModelPicker
          vendor={vendor}
          value={
            modelChoice.provider === "openai-compatible" ? modelChoice : { ...modelChoice, provider: vendor }
          }
          onChange={setModelChoice}
          defaultModel={chosenAgent?.defaultModel ?? ""}
        />
        <details
          className="group order-last w-full rounded-md border px-3 py-2 text-sm"
          open={Object.keys(providerErrors).some((f) => f.startsWith("providers."))}
        >
          <summary className="cursor-pointer select-none text-muted-foreground">Providers</summary>
          <div className="pt-3">
            <ProviderPicker
              availability={availability}
              value={providers}
              onChange={setProviders}
              errors={providerErrors}
            />
          </div>
        </details>
        <Button type="submit" className="ml-auto" disabled={pending}>
          {pending ? <Spinner label={source ? "Checking the repository" : "Creating project"} /> : null}
          {source ? (pending ? "Checking the repository…" : "Import and build") : "Create project"}
        </Button>
      </div>
    </form>
  );
}
