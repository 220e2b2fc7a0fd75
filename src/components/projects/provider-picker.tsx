"use client";

import { useId } from "react";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import type { ProviderAvailability, ProviderChoices } from "@/server/integrations/providers";

export type ProviderOverrides = Partial<Pick<ProviderChoices, "git" | "database" | "sandbox" | "deploy">>;

type Option = { value: string; label: string; available: (a: ProviderAvailability) => boolean };

const ports: Array<{ key: keyof ProviderOverrides; label: string; options: Option[] }> = [
  {
    key: "git",
    label: "Git host",
    options: [
      { value: "github", label: "GitHub", available: (a) => a.github },
      { value: "local", label: "Local git", available: () => true },
    ],
  },
  {
    key: "database",
    label: "Database",
    options: [
      { value: "tidbcloud", label: "TiDB Cloud", available: (a) => a.tidbcloud },
      { value: "mysql", label: "MySQL server", available: (a) => a.mysqlBranches },
      { value: "libsql", label: "Embedded libSQL", available: () => true },
    ],
  },
  {
    key: "sandbox",
    label: "Sandbox",
    options: [
      { value: "vercel", label: "Vercel Sandbox", available: (a) => a.vercel },
      { value: "local", label: "Local (bubblewrap)", available: () => true },
    ],
  },
  {
    key: "deploy",
    label: "Deploy",
    options: [
      { value: "vercel", label: "Vercel", available: (a) => a.vercel && a.github },
      { value: "local", label: "Local", available: () => true },
    ],
  },
];

const AUTO = "auto";

/** Per-port overrides; "Automatic" leaves the choice to the server (cloud where credentials exist, else local). */
export function ProviderPicker(props: {
  availability: ProviderAvailability;
  value: ProviderOverrides;
  onChange: (value: ProviderOverrides) => void;
  errors: Record<string, string[] | undefined>;
}) {
  const baseId = useId();
  return (
    <fieldset className="grid gap-3 sm:grid-cols-2">
      <legend className="sr-only">Providers</legend>
      {ports.map((port) => {
        const id = `${baseId}-${port.key}`;
        const error = props.errors[`providers.${port.key}`]?.[0];
        return (
          <div key={port.key} className="grid gap-1.5">
            <Label htmlFor={id}>{port.label}</Label>
            <Select
              value={props.value[port.key] ?? AUTO}
              onValueChange={(next) => {
                const { [port.key]: _dropped, ...rest } = props.value;
                props.onChange(next === AUTO ? rest : { ...rest, [port.key]: next });
              }}
            >
              <SelectTrigger id={id} aria-invalid={error ? true : undefined} className="w-full">
                <SelectValue />
              </SelectTrigger>
              <SelectContent>
                <SelectItem value={AUTO}>Automatic</SelectItem>
                {port.options.map((option) => (
                  <SelectItem key={option.value} value={option.value}>
                    {option.label}
                    {option.available(props.availability) ? "" : " (not configured)"}
                  </SelectItem>
                ))}
              </SelectContent>
            </Select>
            {error ? <p className="text-destructive text-xs">{error}</p> : null}
          </div>
        );
      })}
    </fieldset>
  );
}
