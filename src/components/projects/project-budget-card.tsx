"use client";

import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { setProjectBudgetAction } from "@/actions/projects";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import type { ProjectBudgetView } from "@/server/projects/project-budget-types";

const tokens = (n: number) => n.toLocaleString("en-US");
const usd = (n: number) => `$${n.toFixed(n === 0 || n >= 1 ? 2 : 4)}`;

function limitText(value: number, format: (n: number) => string): string {
  return value === 0 ? "no limit" : format(value);
}

/** A blank field means the platform default; otherwise a number (0: no limit). */
function parseField(text: string, whole: boolean): number | null | "invalid" {
  const trimmed = text.trim().replaceAll(",", "").replace(/^\$/, "");
  if (trimmed === "") return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value))) return "invalid";
  return value;
}

/**
 * The project's Budget: how much one run (a build or follow-up: the planner's and the agent's model calls) may use
 * before the gateway stops it, and what the project's runs spent. This is where the budget error sends operators.
 */
export function ProjectBudgetCard({ view }: { view: ProjectBudgetView }) {
  const router = useRouter();
  const tokensId = useId();
  const usdId = useId();
  const [tokensText, setTokensText] = useState(view.tokens === null ? "" : String(view.tokens));
  const [usdText, setUsdText] = useState(view.usd === null ? "" : String(view.usd));
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function save(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const budgetTokens = parseField(tokensText, true);
    const budgetUsd = parseField(usdText, false);
    if (budgetTokens === "invalid" || budgetUsd === "invalid") {
      setError(
        "Enter a whole number of tokens and an amount in USD (0: no limit), or leave blank for the default.",
      );
      return;
    }
    startTransition(async () => {
      const result = await setProjectBudgetAction({ projectId: view.projectId, budgetTokens, budgetUsd });
      if (!result.ok) {
        const fields = result.error.fields ?? {};
        setError(fields.budgetTokens?.[0] ?? fields.budgetUsd?.[0] ?? result.error.message);
        return;
      }
      setError(null);
      toast.success("Budget saved");
      router.refresh();
    });
  }

  return (
    <Card>
      <form onSubmit={save} aria-label="Budget" className="contents">
        <CardHeader>
          <CardTitle id="budget">Budget</CardTitle>
          <CardDescription>
            What one run of this project (a build, follow-up or restore: planning and the agent) may spend on
            its model before Kiln stops it. Leave a field blank for the platform default; 0 means no limit.
          </CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4 sm:grid-cols-2">
          <div className="grid gap-1.5">
            <Label htmlFor={tokensId}>Tokens per run</Label>
            <Input
              id={tokensId}
              inputMode="numeric"
              value={tokensText}
              placeholder={`Default: ${limitText(view.defaults.tokens, tokens)}`}
              onChange={(event) => setTokensText(event.target.value)}
            />
            <p className="text-muted-foreground text-xs">
              Input and output tokens, not cache reads. Largest run so far: {tokens(view.spent.maxRunTokens)}.
            </p>
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor={usdId}>USD per run</Label>
            <Input
              id={usdId}
              inputMode="decimal"
              value={usdText}
              placeholder={`Default: ${limitText(view.defaults.usd, usd)}`}
              onChange={(event) => setUsdText(event.target.value)}
            />
            <p className="text-muted-foreground text-xs">Largest run so far: {usd(view.spent.maxRunUsd)}.</p>
          </div>
          <p className="text-sm sm:col-span-2">
            This project spent <strong>{tokens(view.spent.tokens)}</strong> tokens and{" "}
            <strong>{usd(view.spent.usd)}</strong> in all.
          </p>
          {error ? (
            <p role="alert" className="text-destructive text-sm sm:col-span-2">
              {error}
            </p>
          ) : null}
        </CardContent>
        <CardFooter className="mt-4">
          <Button type="submit" disabled={pending}>
            {pending ? <Spinner label="Saving" /> : null}
            Save budget
          </Button>
        </CardFooter>
      </form>
    </Card>
  );
}
