"use client";

import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { deleteCredentialAction, saveCredentialAction } from "@/actions/credentials";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import type { CredentialStatus } from "@/server/credentials/credential-types";
import type { CredentialKind } from "@/server/credentials/kinds";
import { ConfirmButton } from "./confirm-button";

export type CredentialCardStatus = Omit<CredentialStatus, "updatedAt">;

type Field = { name: string; label: string; secret: boolean; placeholder?: string; optional?: boolean };

const formFields: Record<CredentialKind, { description: string; fields: Field[] }> = {
  github: {
    description: "Creates repositories and pushes each checkpoint. A fine-grained token with repo access.",
    fields: [{ name: "token", label: "Personal access token", secret: true, placeholder: "github_pat_…" }],
  },
  vercel: {
    description: "Runs sandboxes and deployments.",
    fields: [
      { name: "token", label: "Token", secret: true },
      { name: "teamId", label: "Team ID", secret: false, optional: true, placeholder: "team_…" },
      { name: "projectId", label: "Project ID", secret: false, optional: true, placeholder: "prj_…" },
    ],
  },
  tidbcloud: {
    description: "Creates a cluster per project and a branch per checkpoint.",
    fields: [
      { name: "publicKey", label: "Public key", secret: true },
      { name: "privateKey", label: "Private key", secret: true },
      { name: "projectId", label: "Project ID", secret: false, optional: true },
      { name: "region", label: "Region", secret: false, optional: true, placeholder: "aws-us-east-1" },
    ],
  },
  openai: {
    description: "Plans apps and drives Codex through Kiln's model gateway.",
    fields: [
      { name: "apiKey", label: "API key", secret: true, placeholder: "sk-…" },
      {
        name: "baseUrl",
        label: "Base URL",
        secret: false,
        optional: true,
        placeholder: "https://api.openai.com/v1",
      },
    ],
  },
  anthropic: {
    description: "Plans apps and drives Claude Code through Kiln's model gateway.",
    fields: [
      { name: "apiKey", label: "API key", secret: true, placeholder: "sk-ant-…" },
      {
        name: "baseUrl",
        label: "Base URL",
        secret: false,
        optional: true,
        placeholder: "https://api.anthropic.com",
      },
    ],
  },
  "openai-compatible": {
    description:
      "Any server speaking OpenAI Chat Completions (Ollama, vLLM, LM Studio, OpenRouter, LiteLLM): plans apps and drives Codex or Claude Code through Kiln's gateway. Checked by listing its models.",
    fields: [
      { name: "baseUrl", label: "Base URL", secret: false, placeholder: "http://localhost:11434/v1" },
      {
        name: "apiKey",
        label: "API key",
        secret: true,
        optional: true,
        placeholder: "none for a local server",
      },
      {
        name: "price",
        label: "Price (USD per 1M tokens, input,output)",
        secret: false,
        optional: true,
        placeholder: "0,0 on your own GPUs; e.g. 0.5,1.5",
      },
      {
        name: "plannerModel",
        label: "Planner model",
        secret: false,
        optional: true,
        placeholder: "default: the project's model",
      },
    ],
  },
};

function StatusLine({ status }: { status: CredentialCardStatus }) {
  if (status.source === "operator") {
    return (
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <Badge variant={status.verifyStatus === "verified" ? "success" : "warning"}>
          {status.verifyStatus === "verified" ? "Verified" : "Unverified"}
        </Badge>
        <span>
          Yours · set · <span className="font-mono">…{status.hint}</span>
        </span>
        {status.verifyMessage ? <span className="text-muted-foreground">{status.verifyMessage}</span> : null}
      </p>
    );
  }
  if (status.source === "platform") {
    return (
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <Badge variant="secondary">Platform default</Badge>
        <span className="text-muted-foreground">
          In force from the server's environment until you set your own.
        </span>
      </p>
    );
  }
  return (
    <p className="flex items-center gap-2 text-sm">
      <Badge variant="outline">Not set</Badge>
      <span className="text-muted-foreground">
        {status.kind === "openai" || status.kind === "anthropic"
          ? "Needed to generate apps with this vendor's models."
          : "Kiln uses its local provider instead."}
      </span>
    </p>
  );
}

export function CredentialCard({ status }: { status: CredentialCardStatus }) {
  const router = useRouter();
  const formId = useId();
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const spec = formFields[status.kind];

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const values: Record<string, string> = {};
    for (const field of spec.fields) values[field.name] = String(data.get(field.name) ?? "");
    startTransition(async () => {
      const result = await saveCredentialAction({ kind: status.kind, ...values } as Parameters<
        typeof saveCredentialAction
      >[0]);
      if (!result.ok) {
        setErrors(result.error.fields ?? {});
        setMessage(result.error.message);
        return;
      }
      setErrors({});
      setMessage(null);
      form.reset();
      if (result.data.status === "verified") toast.success(`${status.label}: ${result.data.detail}`);
      else toast.warning(`${status.label} saved without verifying. ${result.data.message}`);
      router.refresh();
    });
  }

  async function onRemove(): Promise<boolean> {
    const result = await deleteCredentialAction({ kind: status.kind });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(`${status.label} credential removed`);
    router.refresh();
    return true;
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>{status.label}</CardTitle>
        <CardDescription>{spec.description}</CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        <StatusLine status={status} />
        {/* POST even before hydration: a GET would put the key in the URL, the history and the server log. */}
        <form
          id={formId}
          method="post"
          onSubmit={onSubmit}
          className="grid gap-3 sm:grid-cols-2"
          aria-label={`${status.label} credential`}
        >
          {spec.fields.map((field) => {
            const id = `${formId}-${field.name}`;
            const fieldErrors = errors[field.name];
            return (
              <div key={field.name} className="grid gap-1.5">
                <Label htmlFor={id}>
                  {field.label}
                  {field.optional ? (
                    <span className="font-normal text-muted-foreground">(optional)</span>
                  ) : null}
                </Label>
                <Input
                  id={id}
                  name={field.name}
                  type={field.secret ? "password" : "text"}
                  autoComplete="off"
                  spellCheck={false}
                  defaultValue={
                    field.secret
                      ? undefined
                      : status.source === "operator"
                        ? status.fields[field.name]
                        : undefined
                  }
                  placeholder={field.placeholder}
                  required={!field.optional}
                  aria-invalid={fieldErrors ? true : undefined}
                />
                {fieldErrors ? <p className="text-destructive text-xs">{fieldErrors[0]}</p> : null}
              </div>
            );
          })}
        </form>
        {message ? (
          <p role="alert" className="text-destructive text-sm">
            {message}
          </p>
        ) : null}
      </CardContent>
      <CardFooter className="gap-2">
        <Button type="submit" form={formId} disabled={pending}>
          {pending ? <Spinner label="Saving" /> : null}
          {status.source === "operator" ? "Replace and verify" : "Save and verify"}
        </Button>
        {status.source === "operator" ? (
          <ConfirmButton
            label={`Remove the ${status.label} credential`}
            title={`Remove the ${status.label} credential?`}
            description="Kiln forgets the key you saved here. New builds then use the server's own setting, if it has one, or cannot use this provider until you add a key again."
            confirmLabel="Remove credential"
            pendingLabel="Removing"
            disabled={pending}
            onConfirm={onRemove}
          >
            Remove
          </ConfirmButton>
        ) : null}
      </CardFooter>
    </Card>
  );
}
