"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { z } from "zod";
import { Conversation } from "@/components/conversation/conversation";
import { groupEvents, withCheckpoints } from "@/components/conversation/group-events";
import { useEventStream } from "@/components/conversation/use-event-stream";
import { useStickToBottom } from "@/components/conversation/use-stick-to-bottom";
import { SplitPanes } from "@/components/layout/split-panes";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { type StoredEvent, storedEventSchema } from "@/server/events/schema";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { AppEnvSettings } from "./app-env-settings";
import { CheckpointHeader } from "./checkpoint-header";
import { CheckpointList } from "./checkpoint-list";
import { CodeView } from "./code-view";
import { DatabaseView } from "./database-view";
import { DiffView } from "./diff-view";
import { FollowUpForm } from "./follow-up-form";
import { LiveActivity } from "./live-activity";
import { previewChoice } from "./preview-choice";
import { PreviewPane } from "./preview-pane";
import { RecoveryActions } from "./recovery-actions";
import { revisionDtoSchema } from "./revision-schemas";
import { type CheckpointPick, newestCheckpoint, shownCheckpoint } from "./shown-checkpoint";

const terminal = new Set(["finished", "failed", "cancelled"]);
const revisionsBody = z.object({ revisions: z.array(revisionDtoSchema) });

export type WorkspaceProps = {
  projectId: string;
  taskId: string;
  mainTaskId: string;
  revisions: RevisionDto[];
  events: StoredEvent[];
  lastCursor: number;
  truncated: boolean;
};

/** The task's checkpoints, refreshed from the API whenever the event stream says one moved. */
function useRevisions(props: WorkspaceProps, events: StoredEvent[]) {
  const router = useRouter();
  const [revisions, setRevisions] = useState(props.revisions);
  const url = `/api/v1/projects/${props.projectId}/tasks/${props.taskId}/revisions`;
  const refresh = useCallback(async () => {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) return;
    const parsed = revisionsBody.safeParse(await response.json());
    if (parsed.success) setRevisions(parsed.data.revisions);
  }, [url]);
  const seen = useRef(props.lastCursor);
  useEffect(() => {
    const fresh = events.filter((event) => event.cursor > seen.current);
    if (fresh.length === 0) return;
    seen.current = fresh.at(-1)?.cursor ?? seen.current;
    const known = new Set(revisions.map((revision) => revision.id));
    const moved = fresh.some(
      (event) =>
        event.type === "revision.status" ||
        event.type === "runner.committed" ||
        event.type === "runner.preview" ||
        event.type === "progress" ||
        (event.revisionId !== null && !known.has(event.revisionId)),
    );
    // The plan names the project and the task: the page's header (server-rendered) reads them again.
    if (fresh.some((event) => event.type === "plan")) router.refresh();
    if (!moved) return;
    const timer = setTimeout(() => void refresh(), 200);
    return () => clearTimeout(timer);
  }, [events, revisions, refresh, router]);
  return { revisions, refresh };
}

export function Workspace(props: WorkspaceProps) {
  const stream = useEventStream({
    url: `/api/v1/projects/${props.projectId}/tasks/${props.taskId}/events`,
    initialEvents: props.events,
    lastCursor: props.lastCursor,
    schema: storedEventSchema,
  });
  const { revisions, refresh } = useRevisions(props, stream.events);
  const ordinals = useMemo(
    () => new Map(revisions.map((revision) => [revision.id, revision.ordinal] as const)),
    [revisions],
  );
  const groups = useMemo(
    () => groupEvents(withCheckpoints(stream.events, ordinals)),
    [stream.events, ordinals],
  );
  const latest = newestCheckpoint(revisions);
  const running = latest && !terminal.has(latest.status) ? latest : null;
  // The Settings tab is the project's, not a checkpoint's: the "Showing checkpoint" line is left out there.
  // A link to a file (`?file=`) opens the Code tab.
  const searchParams = useSearchParams();
  const [tab, setTab] = useState(() => (searchParams.get("file") ? "code" : "preview"));
  // Leaving the Code tab drops `?file=` from the address, so a reload shows the tab the operator was on.
  const showTab = useCallback((next: string) => {
    setTab(next);
    if (next === "code") return;
    const url = new URL(window.location.href);
    if (!url.searchParams.has("file")) return;
    url.searchParams.delete("file");
    window.history.replaceState(null, "", url);
  }, []);
  const [pick, setPick] = useState<CheckpointPick | null>(null);
  const selected = shownCheckpoint(revisions, pick);
  const currentGroup = groups.find((group) => group.checkpoint === latest?.ordinal);
  const checkpoints = useMemo(
    () =>
      revisions.map((revision) => ({
        ordinal: revision.ordinal,
        prompt: revision.prompt,
        kind: revision.kind,
      })),
    [revisions],
  );

  const scroller = useStickToBottom();
  const failedStep = currentGroup?.steps.find((timing) => timing.state === "failed")?.step ?? null;
  const preview = previewChoice(revisions, selected, latest);

  const chat = (
    <>
      {currentGroup && latest ? (
        <div className="shrink-0 border-b p-3">
          <CheckpointHeader
            ordinal={latest.ordinal}
            group={currentGroup}
            storedStatus={latest.status}
            reconnecting={stream.reconnecting}
          >
            {running ? <LiveActivity group={currentGroup} /> : null}
            {latest.status === "failed" ? (
              <RecoveryActions
                projectId={props.projectId}
                taskId={props.taskId}
                revision={latest}
                failedStep={failedStep}
                onStarted={() => {
                  setPick(null);
                  void refresh();
                }}
              />
            ) : null}
          </CheckpointHeader>
        </div>
      ) : null}
      <div
        ref={scroller.ref}
        onScroll={scroller.onScroll}
        className="min-h-0 flex-1 overflow-y-auto p-3"
        aria-live="polite"
      >
        <div>
          {props.truncated ? (
            <p className="mb-2 text-muted-foreground text-xs">Older events are left out of this view.</p>
          ) : null}
          <Conversation groups={groups} checkpoints={checkpoints} />
        </div>
      </div>
      <div className="shrink-0 border-t bg-background p-3">
        <FollowUpForm
          projectId={props.projectId}
          taskId={props.taskId}
          runningRevisionId={running?.id ?? null}
          vendor={latest?.agentVendor ?? "openai"}
          current={{ provider: latest?.modelProvider ?? "openai", model: latest?.model ?? "" }}
          onSent={() => {
            setPick(null);
            void refresh();
          }}
          onCancelled={() => void refresh()}
        />
      </div>
    </>
  );

  const pane = (
    <Tabs value={tab} onValueChange={showTab} className="min-h-0 flex-1 gap-0">
      <div className="flex shrink-0 flex-wrap items-center gap-x-3 gap-y-1 border-b px-3 py-1.5">
        <TabsList className="max-w-full justify-start overflow-x-auto">
          <TabsTrigger value="preview">Preview</TabsTrigger>
          <TabsTrigger value="changes">Changes</TabsTrigger>
          <TabsTrigger value="code">Code</TabsTrigger>
          <TabsTrigger value="database">Database</TabsTrigger>
          <TabsTrigger value="checkpoints">Checkpoints ({revisions.length})</TabsTrigger>
          <TabsTrigger value="settings">Settings</TabsTrigger>
        </TabsList>
        {selected && tab !== "settings" ? (
          <p className="text-muted-foreground text-xs">
            Showing checkpoint {selected.ordinal}
            {selected.id !== latest?.id ? " (an earlier one)" : ""}
          </p>
        ) : null}
      </div>
      <TabsContent value="preview" className="flex min-h-0 flex-col p-2">
        <PreviewPane revision={preview.revision} notice={preview.notice} />
      </TabsContent>
      <TabsContent value="changes" className="min-h-0 overflow-y-auto p-3">
        <DiffView revision={selected} />
      </TabsContent>
      <TabsContent value="code" className="flex min-h-0 flex-col">
        <CodeView revision={selected} />
      </TabsContent>
      <TabsContent value="database" className="min-h-0 overflow-y-auto p-3">
        <DatabaseView revision={selected} />
      </TabsContent>
      <TabsContent value="checkpoints" className="min-h-0 overflow-y-auto p-3">
        <CheckpointList
          projectId={props.projectId}
          mainTaskId={props.mainTaskId}
          taskId={props.taskId}
          revisions={revisions}
          selectedId={selected?.id ?? null}
          onSelect={(id) => setPick({ id, newestOrdinal: latest?.ordinal ?? 0 })}
          onRestored={() => {
            // The restore is a new checkpoint: show it, not the one it was made from.
            setPick(null);
            void refresh();
          }}
          busy={running !== null}
        />
      </TabsContent>
      <TabsContent value="settings" className="min-h-0 overflow-y-auto p-3">
        <AppEnvSettings projectId={props.projectId} />
      </TabsContent>
    </Tabs>
  );

  return (
    <SplitPanes chat={chat} preview={pane} storageKey="kiln.workspace.chatWidth" previewLabel="Checkpoint" />
  );
}
