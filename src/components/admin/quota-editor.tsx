"use client";

import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { setOperatorQuotasAction } from "@/actions/governance";
import { QuotaMeter } from "@/components/settings/quota-usage-card";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import type { QuotaKey, QuotaLine, QuotaView } from "@/server/governance/quota-view";

type Value = number | null | "default";

const fieldLabels: Record<QuotaKey, string> = {
  buildsPerDay: "Builds per day",
  concurrentRuns: "Concurrent runs",
  tokensPerMonth: "Tokens per month",
  usdPerMonth: "USD per month",
};

const quotaKeys: readonly QuotaKey[] = ["buildsPerDay", "concurrentRuns", "tokensPerMonth", "usdPerMonth"];

function initialText(line: QuotaLine): string {
  if (line.override === "default") return "";
  return line.override === "none" ? "none" : String(line.override);
}

/** Blank: the platform default; "none": no limit for this operator; otherwise a number. */
function parse(text: string, whole: boolean): Value | "invalid" {
  const trimmed = text.trim().toLowerCase().replaceAll(",", "").replace(/^\$/, "");
  if (trimmed === "") return "default";
  if (trimmed === "none") return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value))) return "invalid";
  return value;
}

/** A row action on the Admin page: opens one operator's usage against their quotas, and the admin's overrides. */
export function QuotaEditor(props: { userId: string; email: string; view: QuotaView }) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" aria-label={`Quotas of ${props.email}`}>
          Quotas
        </Button>
      </DialogTrigger>
      <DialogContent className="sm:max-w-2xl">
        <DialogHeader>
          <DialogTitle>Quotas of {props.email}</DialogTitle>
          <DialogDescription>
            Builds count per UTC day, tokens and money per UTC month. Past a quota, new builds get 429 and
            running ones stop at their next model call.
          </DialogDescription>
        </DialogHeader>
        <QuotaForm {...props} onSaved={() => setOpen(false)} />
      </DialogContent>
    </Dialog>
  );
}

function QuotaForm({
  userId,
  email,
  view,
  onSaved,
}: {
  userId: string;
  email: string;
  view: QuotaView;
  onSaved: () => void;
}) {
  const router = useRouter();
  const baseId = useId();
  const [texts, setTexts] = useState<Record<QuotaKey, string>>(() => {
    const textOf = (key: QuotaKey) => {
      const line = view.lines.find((candidate) => candidate.key === key);
      return line ? initialText(line) : "";
    };
    return {
      buildsPerDay: textOf("buildsPerDay"),
      concurrentRuns: textOf("concurrentRuns"),
      tokensPerMonth: textOf("tokensPerMonth"),
      usdPerMonth: textOf("usdPerMonth"),
    };
  });
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function save(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const values: Partial<Record<QuotaKey, Value>> = {};
    for (const key of quotaKeys) {
      const value = parse(texts[key], key !== "usdPerMonth");
      if (value === "invalid") {
        setError(`${fieldLabels[key]}: a number, "none" for no limit, or blank for the platform default.`);
        return;
      }
      values[key] = value;
    }
    startTransition(async () => {
      const result = await setOperatorQuotasAction({ userId, ...values });
      if (!result.ok) {
        const fields = result.error.fields ?? {};
        setError(Object.values(fields)[0]?.[0] ?? result.error.message);
        return;
      }
      setError(null);
      toast.success(`Quotas of ${email} saved`);
      onSaved();
      router.refresh();
    });
  }

  return (
    <form onSubmit={save} aria-label={`Quotas of ${email}`} className="grid gap-4">
      <div className="grid gap-4 sm:grid-cols-2">
        {view.lines.map((line) => (
          <div key={line.key} className="grid content-start gap-2">
            <QuotaMeter line={line} />
            <Label htmlFor={`${baseId}-${line.key}`} className="text-xs">
              {fieldLabels[line.key]}
            </Label>
            <Input
              id={`${baseId}-${line.key}`}
              value={texts[line.key]}
              placeholder="Platform default"
              inputMode={line.key === "usdPerMonth" ? "decimal" : "numeric"}
              onChange={(event) => setTexts((current) => ({ ...current, [line.key]: event.target.value }))}
            />
          </div>
        ))}
      </div>
      {error ? (
        <p role="alert" className="text-destructive text-sm">
          {error}
        </p>
      ) : null}
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" size="sm" disabled={pending}>
          {pending ? <Spinner label="Saving" /> : null}
          Save quotas
        </Button>
        <span className="text-muted-foreground text-xs">
          Blank: platform default · <code>none</code>: no limit · a number: this operator's limit.
        </span>
      </div>
    </form>
  );
}
