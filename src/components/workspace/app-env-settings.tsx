"use client";

import { useCallback, useEffect, useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { deleteAppEnvAction, listAppEnvAction, putAppEnvAction } from "@/actions/app-env";
import { ConfirmButton } from "@/components/settings/confirm-button";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Textarea } from "@/components/ui/textarea";
import { appEnvNameProblem, MAX_APP_ENV_NAME_LENGTH } from "@/server/app-env/app-env-rules";
import type { AppEnvVar } from "@/server/app-env/app-env-types";

type FieldErrors = { name?: string; value?: string; secret?: string; form?: string };
type Draft = { name: string; value: string; secret: boolean; editing: AppEnvVar | null };

const emptyDraft: Draft = { name: "", value: "", secret: false, editing: null };

/**
 * The project's app environment variables (the workspace's Settings tab): what the app's preview, migrations, build
 * and deployments read from `process.env`. A secret's value is write-only: shown as dots, replaced, never read back.
 */
export function AppEnvSettings({ projectId }: { projectId: string }) {
  const ids = { name: useId(), value: useId(), secret: useId() };
  const [vars, setVars] = useState<AppEnvVar[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [pending, startTransition] = useTransition();

  const load = useCallback(async () => {
    const result = await listAppEnvAction({ projectId });
    if (result.ok) {
      setVars(result.data);
      setLoadError(null);
    } else setLoadError(result.error.message);
  }, [projectId]);

  useEffect(() => {
    void load();
  }, [load]);

  function onSave(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const nameProblem = appEnvNameProblem(draft.name);
    if (nameProblem) {
      setErrors({ name: nameProblem });
      return;
    }
    startTransition(async () => {
      const result = await putAppEnvAction({
        projectId,
        name: draft.name,
        value: draft.value,
        secret: draft.secret,
      });
      if (!result.ok) {
        const { fields, message } = result.error;
        const next: FieldErrors = {
          name: fields?.name?.[0],
          value: fields?.value?.[0],
          secret: fields?.secret?.[0],
        };
        setErrors(next.name || next.value || next.secret ? next : { form: message });
        return;
      }
      setErrors({});
      setDraft(emptyDraft);
      toast.success(`Saved ${result.data.name}`);
      await load();
    });
  }

  async function onDelete(variable: AppEnvVar): Promise<boolean> {
    const result = await deleteAppEnvAction({ projectId, name: variable.name });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(`Deleted ${variable.name}`);
    if (draft.editing?.name === variable.name) setDraft(emptyDraft);
    await load();
    return true;
  }

  function edit(variable: AppEnvVar) {
    setErrors({});
    setDraft({
      name: variable.name,
      value: variable.value ?? "",
      secret: variable.secret,
      editing: variable,
    });
  }

  const editingSecret = draft.editing?.secret === true;

  return (
    <div className="space-y-5 text-sm">
      <div className="space-y-1">
        <h3 className="font-medium">Environment variables</h3>
        <p className="text-muted-foreground">
          The app reads these from <code className="font-mono">process.env</code> in its preview, migrations,
          build and deployments. The coding agent only learns their names (in{" "}
          <code className="font-mono">.env.example</code>); secret values never reach it, its events or the
          replay. Changes apply from the next checkpoint, woken preview or redeploy.
        </p>
      </div>

      <form
        onSubmit={onSave}
        aria-label={draft.editing ? `Edit ${draft.editing.name}` : "Add a variable"}
        className="space-y-3 rounded-lg border p-3"
        noValidate
      >
        <div className="grid gap-3 sm:grid-cols-[minmax(0,14rem)_minmax(0,1fr)]">
          <div className="grid content-start gap-1.5">
            <Label htmlFor={ids.name}>Name</Label>
            <Input
              id={ids.name}
              value={draft.name}
              onChange={(event) => setDraft({ ...draft, name: event.target.value })}
              placeholder="STRIPE_SECRET_KEY"
              maxLength={MAX_APP_ENV_NAME_LENGTH + 1}
              autoComplete="off"
              spellCheck={false}
              readOnly={draft.editing !== null}
              className="font-mono"
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={errors.name ? `${ids.name}-error` : undefined}
            />
            {errors.name ? (
              <p id={`${ids.name}-error`} className="text-destructive text-xs">
                {errors.name}
              </p>
            ) : null}
          </div>
          <div className="grid content-start gap-1.5">
            <Label htmlFor={ids.value}>Value</Label>
            <Textarea
              id={ids.value}
              value={draft.value}
              onChange={(event) => setDraft({ ...draft, value: event.target.value })}
              placeholder={editingSecret ? "Enter a new value (the current one is not shown)" : "value"}
              rows={1}
              autoComplete="off"
              spellCheck={false}
              className="min-h-9 font-mono"
              aria-invalid={errors.value ? true : undefined}
              aria-describedby={errors.value ? `${ids.value}-error` : undefined}
            />
            {errors.value ? (
              <p id={`${ids.value}-error`} className="text-destructive text-xs">
                {errors.value}
              </p>
            ) : null}
          </div>
        </div>
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div className="grid gap-1">
            <div className="flex items-center gap-2">
              <input
                id={ids.secret}
                type="checkbox"
                checked={draft.secret}
                onChange={(event) => setDraft({ ...draft, secret: event.target.checked })}
                className="size-4 accent-primary"
                aria-invalid={errors.secret ? true : undefined}
              />
              <Label htmlFor={ids.secret}>Secret (write-only, redacted from logs)</Label>
            </div>
            {errors.secret ? <p className="text-destructive text-xs">{errors.secret}</p> : null}
          </div>
          <div className="flex gap-2">
            {draft.editing ? (
              <Button
                type="button"
                variant="ghost"
                onClick={() => {
                  setErrors({});
                  setDraft(emptyDraft);
                }}
              >
                Cancel
              </Button>
            ) : null}
            <Button type="submit" disabled={pending}>
              {draft.editing ? "Save" : "Add variable"}
            </Button>
          </div>
        </div>
        {errors.form ? (
          <p role="alert" className="text-destructive text-sm">
            {errors.form}
          </p>
        ) : null}
      </form>

      {loadError ? <p className="text-destructive">{loadError}</p> : null}
      {vars === null && !loadError ? <Spinner label="Reading the variables" /> : null}
      {vars !== null && vars.length === 0 ? <p className="text-muted-foreground">No variables yet.</p> : null}
      {vars !== null && vars.length > 0 ? (
        <ul aria-label="Variables" className="divide-y rounded-lg border">
          {vars.map((variable) => (
            <li key={variable.name} className="flex items-center gap-3 px-3 py-2">
              <div className="min-w-0 flex-1 space-y-0.5">
                <p className="break-all font-medium font-mono text-xs">{variable.name}</p>
                {variable.secret ? (
                  <p className="flex items-center gap-2 font-mono text-muted-foreground text-xs">
                    <span aria-hidden>••••</span>
                    <span className="sr-only">value hidden</span>
                    <Badge variant="secondary">secret</Badge>
                  </p>
                ) : (
                  <p
                    className="truncate font-mono text-muted-foreground text-xs"
                    title={variable.value ?? ""}
                  >
                    {variable.value === "" ? "(empty)" : variable.value}
                  </p>
                )}
              </div>
              <div className="flex shrink-0 gap-1">
                <Button
                  variant="ghost"
                  size="sm"
                  onClick={() => edit(variable)}
                  aria-label={`Edit ${variable.name}`}
                >
                  Edit
                </Button>
                <ConfirmButton
                  label={`Delete ${variable.name}`}
                  title={`Delete ${variable.name}?`}
                  description="The app stops getting it from its next checkpoint, woken preview or redeploy on. What runs now keeps it until restarted."
                  confirmLabel="Delete variable"
                  pendingLabel="Deleting"
                  disabled={pending}
                  onConfirm={() => onDelete(variable)}
                >
                  Delete
                </ConfirmButton>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
