"use client";

import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";

/** A coding agent to offer: its kind, how it is named, and whose models it speaks. */
export type AgentOption<Kind extends string> = {
  kind: Kind;
  label: string;
  vendor: "openai" | "anthropic";
  defaultModel: string;
};

/** The coding-agent dropdown of the create box and of Settings' defaults: it hands back the whole option picked. */
export function AgentSelect<Kind extends string>(props: {
  id: string;
  label: string;
  options: AgentOption<Kind>[];
  value: Kind;
  onChange: (option: AgentOption<Kind>) => void;
}) {
  return (
    <Select
      value={props.value}
      onValueChange={(value) => {
        const chosen = props.options.find((option) => option.kind === value);
        if (chosen) props.onChange(chosen);
      }}
    >
      <SelectTrigger id={props.id} className="w-44" aria-label={props.label}>
        <SelectValue />
      </SelectTrigger>
      <SelectContent>
        {props.options.map((option) => (
          <SelectItem key={option.kind} value={option.kind}>
            {option.label}
          </SelectItem>
        ))}
      </SelectContent>
    </Select>
  );
}
