"use client";

import {
  AlertTriangleIcon,
  CheckCircle2Icon,
  ChevronRightIcon,
  FileIcon,
  ListChecksIcon,
  SquareCheckIcon,
  SquareIcon,
  TerminalIcon,
  WrenchIcon,
  XCircleIcon,
} from "lucide-react";
import { memo, type ReactNode, useState } from "react";
import { StatusBadge } from "@/components/projects/status-badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";
import {
  type ActivityItem,
  type CheckpointGroup,
  checkpointStatus,
  describeFailure,
  stepLabels,
  toolKinds,
} from "./group-events";

// The conversation of a session: per checkpoint, the prompt, the plan, the agent's messages, and its tool activity
// collapsed. Built for long sessions: only the newest items are rendered (older ones on request), collapsed bodies
// are rendered only once opened, and each item re-renders only when its own events change.

export type ConversationCheckpoint = { ordinal: number; prompt: string; kind?: string };

export type ConversationProps = {
  /** From `groupEvents(events)`. */
  groups: readonly CheckpointGroup[];
  /** The checkpoints' prompts (events do not carry what the operator typed). */
  checkpoints?: readonly ConversationCheckpoint[];
  /** How many of a checkpoint's newest items are rendered at first; "Show earlier" adds more. Default 150. */
  initialItems?: number;
  /** Checkpoints before the newest this many start collapsed. Default 1. */
  expandedGroups?: number;
  className?: string;
};

type LazyDetailsProps = {
  summary: ReactNode;
  /** Rendered only while open (and from the first opening on), so a closed block costs one line. */
  children: () => ReactNode;
  defaultOpen?: boolean;
  className?: string;
  summaryClassName?: string;
};

/** A native <details> (keyboard and screen-reader friendly) whose body is rendered lazily. */
export function LazyDetails({
  summary,
  children,
  defaultOpen = false,
  className,
  summaryClassName,
}: LazyDetailsProps) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <details
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
      className={cn("min-w-0", className)}
    >
      <summary
        className={cn(
          "flex cursor-pointer select-none list-none items-center gap-2 rounded-sm outline-none",
          "focus-visible:ring-[3px] focus-visible:ring-ring/50 [&::-webkit-details-marker]:hidden",
          summaryClassName,
        )}
      >
        <ChevronRightIcon
          aria-hidden
          className={cn("size-3.5 shrink-0 text-muted-foreground transition-transform", open && "rotate-90")}
        />
        {typeof summary === "string" ? <span className="min-w-0 truncate">{summary}</span> : summary}
      </summary>
      {open ? children() : null}
    </details>
  );
}

function firstLine(text: string, max = 120): string {
  const line = text.trimStart().split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function Pre({ text, className }: { text: string; className?: string }) {
  return (
    <pre
      className={cn(
        "mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-words rounded-md bg-muted p-2 font-mono text-xs",
        className,
      )}
    >
      {text || "(no output)"}
    </pre>
  );
}

function CommandStatus({ item }: { item: Extract<ActivityItem, { kind: "command" }> }) {
  if (item.status === "running") return <span className="text-muted-foreground text-xs">running…</span>;
  const failed = item.status === "failed" || (item.exitCode !== null && item.exitCode !== 0);
  return (
    <span
      className={cn("shrink-0 text-xs tabular-nums", failed ? "text-destructive" : "text-muted-foreground")}
    >
      {item.exitCode === null ? item.status : `exit ${item.exitCode}`}
    </span>
  );
}

const changeMarks = { add: "+", update: "~", delete: "−" } as const;
const changeWords = { add: "added", update: "changed", delete: "deleted" } as const;

/** One tool item inside an opened tool block. */
const ToolItem = memo(
  function ToolItem({ item }: { item: ActivityItem }) {
    switch (item.kind) {
      case "command":
        return (
          <LazyDetails
            className="rounded-md border px-2 py-1"
            summaryClassName="flex items-center gap-2 text-xs"
            summary={
              <>
                <TerminalIcon className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
                <code className="min-w-0 flex-1 truncate font-mono">{firstLine(item.command)}</code>
                <CommandStatus item={item} />
              </>
            }
          >
            {() => (
              <>
                {item.command.includes("\n") ? <Pre text={item.command} /> : null}
                <Pre text={item.output} />
              </>
            )}
          </LazyDetails>
        );
      case "file_change":
        return (
          <ul className="grid gap-0.5 rounded-md border px-2 py-1 text-xs" aria-label="Files changed">
            {item.changes.map((change) => (
              <li key={`${change.kind}:${change.path}`} className="flex min-w-0 items-center gap-2">
                <FileIcon className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
                <span aria-hidden className="w-3 font-mono">
                  {changeMarks[change.kind]}
                </span>
                <span className="min-w-0 truncate font-mono">{change.path}</span>
                <span className="sr-only">{changeWords[change.kind]}</span>
              </li>
            ))}
          </ul>
        );
      case "todo":
        return (
          <ul className="grid gap-0.5 rounded-md border px-2 py-1 text-xs" aria-label="To-do list">
            {item.items.map((todo, index) => (
              // Todo entries have no ids; their position in the list is what the agent updates.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <li key={index} className={cn("flex items-start gap-2", todo.done && "text-muted-foreground")}>
                {todo.done ? (
                  <SquareCheckIcon className="mt-px size-3.5 shrink-0 text-success" aria-hidden />
                ) : (
                  <SquareIcon className="mt-px size-3.5 shrink-0" aria-hidden />
                )}
                <span className={cn(todo.done && "line-through")}>{todo.text}</span>
                <span className="sr-only">{todo.done ? "(done)" : "(to do)"}</span>
              </li>
            ))}
          </ul>
        );
      case "reasoning":
        return (
          <LazyDetails
            className="rounded-md border px-2 py-1"
            summaryClassName="text-muted-foreground text-xs italic"
            summary={`Thinking: ${firstLine(item.text, 100)}`}
          >
            {() => (
              <p className="mt-1 whitespace-pre-wrap break-words text-muted-foreground text-xs">
                {item.text}
              </p>
            )}
          </LazyDetails>
        );
      case "output":
        return (
          <LazyDetails
            className="rounded-md border px-2 py-1"
            summaryClassName="flex items-center gap-2 text-xs"
            summary={
              <>
                <TerminalIcon className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
                <span className="min-w-0 flex-1 truncate">
                  {stepLabels[item.step]} output{item.stream === "stderr" ? " (errors)" : ""}
                </span>
              </>
            }
          >
            {() => <Pre text={item.text} />}
          </LazyDetails>
        );
      default:
        return null;
    }
  },
  (previous, next) => previous.item.key === next.item.key && previous.item.rev === next.item.rev,
);

function toolSummary(items: readonly ActivityItem[]): string {
  const counts = { command: 0, file_change: 0, todo: 0, reasoning: 0, output: 0 };
  let failed = 0;
  for (const item of items) {
    if (item.kind in counts) counts[item.kind as keyof typeof counts]++;
    if (item.kind === "command" && (item.status === "failed" || (item.exitCode ?? 0) !== 0)) failed++;
  }
  const parts: string[] = [];
  const plural = (n: number, one: string, many: string) =>
    n > 0 ? parts.push(`${n} ${n === 1 ? one : many}`) : 0;
  plural(counts.command, "command", "commands");
  plural(counts.file_change, "file change", "file changes");
  plural(counts.todo, "to-do update", "to-do updates");
  plural(counts.output, "step log", "step logs");
  plural(counts.reasoning, "thought", "thoughts");
  return `${parts.join(", ")}${failed > 0 ? ` (${failed} failed)` : ""}`;
}

function lastToolLine(item: ActivityItem | undefined): string | null {
  if (!item) return null;
  if (item.kind === "command")
    return `${item.status === "running" ? "Running" : "Ran"} ${firstLine(item.command, 80)}`;
  if (item.kind === "file_change") {
    const first = item.changes[0];
    return first
      ? `${changeWords[first.kind]} ${first.path}${item.changes.length > 1 ? ` and ${item.changes.length - 1} more` : ""}`
      : null;
  }
  return null;
}

type ToolBlockProps = { items: readonly ActivityItem[]; signature: string };

/** A run of consecutive tool activity, collapsed to one line until opened. */
const ToolBlock = memo(
  function ToolBlock({ items }: ToolBlockProps) {
    const last = lastToolLine(items.at(-1));
    return (
      <LazyDetails
        className="rounded-lg border bg-card px-3 py-2"
        summaryClassName="flex items-center gap-2 text-sm"
        summary={
          <>
            <WrenchIcon className="size-4 shrink-0 text-muted-foreground" aria-hidden />
            <span className="shrink-0 font-medium">Tool activity</span>
            <span className="min-w-0 truncate text-muted-foreground">
              {toolSummary(items)}
              {last ? ` · ${last}` : ""}
            </span>
          </>
        }
      >
        {() => (
          <div className="mt-2 grid grid-cols-1 gap-1.5">
            {items.map((item) => (
              <ToolItem key={item.key} item={item} />
            ))}
          </div>
        )}
      </LazyDetails>
    );
  },
  (previous, next) => previous.signature === next.signature,
);

/** A conversation item outside tool blocks. */
const ConversationItem = memo(
  function ConversationItem({ item }: { item: ActivityItem }) {
    switch (item.kind) {
      case "plan":
        return (
          <div className="rounded-lg border bg-card p-3 text-sm">
            <p className="flex items-center gap-2 font-medium">
              <ListChecksIcon className="size-4 text-muted-foreground" aria-hidden />
              Plan: {item.title}
            </p>
            {item.steps.length > 0 ? (
              <ol className="mt-2 list-decimal space-y-0.5 pl-5 text-muted-foreground">
                {item.steps.map((step, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a plan's steps are a fixed, ordered list
                  <li key={index}>{step}</li>
                ))}
              </ol>
            ) : null}
            <LazyDetails
              className="mt-2"
              summaryClassName="text-muted-foreground text-xs"
              summary="Instructions for the agent"
            >
              {() => <p className="mt-1 whitespace-pre-wrap break-words text-xs">{item.prompt}</p>}
            </LazyDetails>
          </div>
        );
      case "message":
        return <div className="whitespace-pre-wrap break-words text-sm leading-relaxed">{item.text}</div>;
      case "progress":
        return (
          <p className="flex items-start gap-2 text-muted-foreground text-xs">
            <span aria-hidden className="mt-1.5 size-1 shrink-0 rounded-full bg-muted-foreground" />
            <span className="min-w-0 break-words">{item.message}</span>
          </p>
        );
      case "failure":
        return (
          <p className="flex items-start gap-2 rounded-md border border-destructive/40 px-3 py-2 text-destructive text-sm">
            <AlertTriangleIcon className="mt-0.5 size-4 shrink-0" aria-hidden />
            <span className="min-w-0 whitespace-pre-wrap break-words">
              {describeFailure(item.step, item.reason)}
            </span>
          </p>
        );
      case "agent_error":
        return (
          <p className="flex items-start gap-2 rounded-md border border-destructive/40 px-3 py-2 text-destructive text-sm">
            <AlertTriangleIcon className="mt-0.5 size-4 shrink-0" aria-hidden />
            <span className="min-w-0 whitespace-pre-wrap break-words">
              The agent reported an error: {item.message}
            </span>
          </p>
        );
      case "ended":
        if (item.status === "finished") {
          return (
            <p className="flex items-center gap-2 text-sm text-success">
              <CheckCircle2Icon className="size-4" aria-hidden />
              Checkpoint finished.
            </p>
          );
        }
        return (
          <p
            className={cn(
              "flex items-start gap-2 text-sm",
              item.status === "failed" ? "text-destructive" : "text-muted-foreground",
            )}
          >
            <XCircleIcon className="mt-0.5 size-4 shrink-0" aria-hidden />
            <span className="min-w-0 break-words">
              {item.status === "failed" ? "The checkpoint failed" : "The checkpoint was cancelled"}
              {item.reason ? `: ${item.reason}` : "."}
            </span>
          </p>
        );
      default:
        return null;
    }
  },
  (previous, next) => previous.item.key === next.item.key && previous.item.rev === next.item.rev,
);

type Block =
  | { key: string; tool: true; items: ActivityItem[]; signature: string }
  | { key: string; tool: false; item: ActivityItem };

/** Consecutive tool items become one block; everything else stands alone. */
function toBlocks(items: readonly ActivityItem[]): Block[] {
  const blocks: Block[] = [];
  let run: ActivityItem[] = [];
  const closeRun = () => {
    const first = run[0];
    if (first)
      blocks.push({
        key: `tools:${first.key}`,
        tool: true,
        items: run,
        signature: run.map((i) => `${i.key}@${i.rev}`).join(","),
      });
    run = [];
  };
  for (const item of items) {
    if (toolKinds.has(item.kind)) run.push(item);
    else {
      closeRun();
      blocks.push({ key: item.key, tool: false, item });
    }
  }
  closeRun();
  return blocks;
}

const EARLIER_STEP = 500;

function GroupBody({ group, initialItems }: { group: CheckpointGroup; initialItems: number }) {
  const [limit, setLimit] = useState(initialItems);
  const hidden = Math.max(0, group.items.length - limit);
  const blocks = toBlocks(hidden > 0 ? group.items.slice(hidden) : group.items);
  return (
    <div className="grid grid-cols-1 gap-3">
      {hidden > 0 ? (
        <Button
          variant="ghost"
          size="sm"
          className="justify-self-start"
          onClick={() => setLimit((n) => n + EARLIER_STEP)}
        >
          {`Show earlier activity (${hidden.toLocaleString("en")} more)`}
        </Button>
      ) : null}
      {blocks.map((block) =>
        block.tool ? (
          <ToolBlock key={block.key} items={block.items} signature={block.signature} />
        ) : (
          <ConversationItem key={block.key} item={block.item} />
        ),
      )}
      {group.items.length === 0 ? <p className="text-muted-foreground text-sm">Nothing yet.</p> : null}
    </div>
  );
}

function PromptBubble({ prompt, kind }: { prompt: string; kind?: string }) {
  return (
    <div className="ml-auto max-w-[85%] whitespace-pre-wrap break-words rounded-lg bg-primary/10 px-3 py-2 text-sm">
      <span className="sr-only">{kind === "restore" ? "Restore: " : "Prompt: "}</span>
      {prompt}
    </div>
  );
}

function groupTitle(group: CheckpointGroup): string {
  return group.checkpoint === null ? "Session" : `Checkpoint ${group.checkpoint}`;
}

/**
 * The session's conversation, one section per checkpoint: prompt, plan, messages, tool activity (collapsed),
 * failures in plain words. Older checkpoints start collapsed.
 */
export function Conversation({
  groups,
  checkpoints,
  initialItems = 150,
  expandedGroups = 1,
  className,
}: ConversationProps) {
  const prompts = new Map(checkpoints?.map((checkpoint) => [checkpoint.ordinal, checkpoint]));
  return (
    <div className={cn("grid grid-cols-1 gap-6", className)}>
      {groups.map((group, index) => {
        const checkpoint = group.checkpoint === null ? undefined : prompts.get(group.checkpoint);
        const status = checkpointStatus(group);
        const header = (
          <span className="flex min-w-0 flex-1 items-center gap-2">
            <span className="font-semibold text-sm">{groupTitle(group)}</span>
            {status ? <StatusBadge status={status} /> : null}
            <span className="ml-auto shrink-0 text-muted-foreground text-xs tabular-nums">
              {group.eventCount.toLocaleString("en")} events
            </span>
          </span>
        );
        const body = () => (
          <div className="mt-3 grid grid-cols-1 gap-3">
            {checkpoint ? <PromptBubble prompt={checkpoint.prompt} kind={checkpoint.kind} /> : null}
            <GroupBody group={group} initialItems={initialItems} />
          </div>
        );
        const expanded = index >= groups.length - expandedGroups;
        return (
          <section key={group.checkpoint ?? "none"} aria-label={groupTitle(group)} className="min-w-0">
            {expanded ? (
              <>
                <h2 className="border-b pb-2">{header}</h2>
                {body()}
              </>
            ) : (
              <LazyDetails summaryClassName="border-b pb-2" summary={header}>
                {body}
              </LazyDetails>
            )}
          </section>
        );
      })}
    </div>
  );
}
