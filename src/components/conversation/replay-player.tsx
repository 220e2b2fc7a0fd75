"use client";

import { ExternalLinkIcon, GitCommitHorizontalIcon, ImageOffIcon, PauseIcon, PlayIcon } from "lucide-react";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { SplitPanes } from "@/components/layout/split-panes";
import { StatusBadge } from "@/components/projects/status-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";
import { publicEventSchema } from "@/server/events/public-event";
import { isTerminal } from "@/server/revisions/state-machine";
import type { SharedCheckpoint, SharedSession } from "@/server/share-links/shared-session-types";
import { CheckpointDiff } from "./checkpoint-diff";
import { Conversation } from "./conversation";
import { type CheckpointGroup, checkpointStatus, groupEvents, type SessionEvent } from "./group-events";
import { StepBar } from "./step-bar";
import { buildTimeline, eventsAtTime } from "./timeline";
import { useEventStream } from "./use-event-stream";
import { useStickToBottom } from "./use-stick-to-bottom";

export type ReplayPlayerProps = {
  /** From `getSharedSession` (server). */
  session: SharedSession;
  /** Called when the running checkpoint ends while watching live (the page reloads its screenshot and links). */
  onCheckpointSettled?: () => void;
  /** Where events stream from. Default: the share link's public stream. */
  streamUrl?: string;
  /** A checkpoint's screenshot. Default: the share link's public screenshot route. */
  screenshotUrl?: (ordinal: number) => string;
  /** A checkpoint's diff (`{ diff }` JSON). Default: the share link's public diff route. */
  diffUrl?: (ordinal: number) => string;
  className?: string;
};

export const replaySpeeds = [1, 2, 4, 8] as const;
export type ReplaySpeed = (typeof replaySpeeds)[number];

const TICK_MS = 100;

function formatClock(ms: number): string {
  const total = Math.floor(ms / 1_000);
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** The newest checkpoint's latest status: from the events when they say, else from the page ("queued": unknown). */
function latestStatus(events: readonly SessionEvent[], checkpoints: readonly SharedCheckpoint[]): string {
  let newest = checkpoints.at(-1)?.ordinal ?? 0;
  for (let i = events.length - 1; i >= 0; i--) newest = Math.max(newest, events[i]?.checkpoint ?? 0);
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.checkpoint === newest && event.type === "revision.status") return event.payload.status;
  }
  return checkpoints.find((checkpoint) => checkpoint.ordinal === newest)?.status ?? "queued";
}

function caughtUp(events: readonly SessionEvent[], endCursor: number): boolean {
  return (events.at(-1)?.cursor ?? 0) >= endCursor;
}

function CheckpointPanel(props: {
  ordinal: number;
  checkpoint: SharedCheckpoint | undefined;
  group: CheckpointGroup | undefined;
  now: number | undefined;
  /** The checkpoint has ended at the playhead: its outcome (commit, screenshot, links) can be shown. */
  ended: boolean;
  showScreenshot: boolean;
  screenshotUrl: string;
  diffUrl: string;
}) {
  const { ordinal, checkpoint, group } = props;
  const status = group ? checkpointStatus(group) : "queued";
  return (
    <section
      aria-labelledby="checkpoint-heading"
      className="grid grid-cols-1 gap-3 rounded-xl border bg-card p-3 sm:p-4"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 id="checkpoint-heading" className="font-semibold">
          Checkpoint {ordinal}
        </h2>
        {status ? <StatusBadge status={status} /> : null}
        {checkpoint?.commitShort && props.ended ? (
          <span className="ml-auto inline-flex items-center gap-1 font-mono text-muted-foreground text-xs">
            <GitCommitHorizontalIcon className="size-3.5" aria-hidden />
            <span className="sr-only">Commit</span>
            {checkpoint.commitShort}
          </span>
        ) : null}
      </div>
      {checkpoint ? (
        <p className="line-clamp-3 whitespace-pre-wrap break-words text-muted-foreground text-sm">
          {checkpoint.prompt}
        </p>
      ) : null}
      {group ? <StepBar steps={group.steps} now={props.now} /> : null}
      {props.showScreenshot ? (
        // biome-ignore lint/performance/noImgElement: a private blob served by our own route, not an optimizable asset
        <img
          src={props.screenshotUrl}
          alt={`The app's preview at checkpoint ${ordinal}`}
          width={1280}
          height={800}
          loading="lazy"
          className="h-auto w-full rounded-md border bg-muted"
        />
      ) : (
        <div className="grid aspect-[16/10] place-items-center rounded-md border border-dashed text-muted-foreground text-sm">
          <span className="flex items-center gap-2">
            <ImageOffIcon className="size-4" aria-hidden />
            {checkpoint?.hasScreenshot
              ? "The screenshot is taken when the preview is ready."
              : "No screenshot yet."}
          </span>
        </div>
      )}
      {checkpoint?.commitShort && props.ended ? <CheckpointDiff key={ordinal} url={props.diffUrl} /> : null}
      {props.ended && (checkpoint?.previewUrl || checkpoint?.deployUrl) ? (
        <div className="flex flex-wrap gap-2">
          {checkpoint.previewUrl ? (
            <Button asChild variant="outline" size="sm">
              <a href={checkpoint.previewUrl} target="_blank" rel="noreferrer noopener">
                Preview <ExternalLinkIcon aria-hidden />
              </a>
            </Button>
          ) : null}
          {checkpoint.deployUrl ? (
            <Button asChild size="sm">
              <a href={checkpoint.deployUrl} target="_blank" rel="noreferrer noopener">
                Deployed app <ExternalLinkIcon aria-hidden />
              </a>
            </Button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/**
 * Plays a session back: the conversation up to the playhead, a scrubber with checkpoint markers, play/pause and
 * speed, and the checkpoint at the playhead (or the one jumped to) with its steps, screenshot and links. At the
 * end of the timeline it follows the session live while it runs.
 */
export function ReplayPlayer({
  session,
  onCheckpointSettled,
  streamUrl = `/api/v1/sessions/${session.slug}/events`,
  screenshotUrl = (ordinal) => `/s/${session.slug}/checkpoints/${ordinal}/screenshot`,
  diffUrl = (ordinal) => `/s/${session.slug}/checkpoints/${ordinal}/diff`,
  className,
}: ReplayPlayerProps) {
  // The newest checkpoint's status decides whether more will come; read from what has streamed in.
  const [settled, setSettled] = useState(!session.live);
  // Not `session.complete`: events written while the page was read are past the backlog but not past endCursor.
  const [backlogDone, setBacklogDone] = useState(caughtUp(session.events, session.endCursor));
  const stream = useEventStream({
    url: streamUrl,
    initialEvents: session.events,
    lastCursor: session.lastCursor,
    schema: publicEventSchema,
    enabled: !settled || !backlogDone,
  });
  const events = stream.events;

  useEffect(() => {
    if (!backlogDone && caughtUp(events, session.endCursor)) setBacklogDone(true);
    if (!settled && isTerminal(latestStatus(events, session.checkpoints))) {
      setSettled(true);
      onCheckpointSettled?.();
    }
  }, [events, backlogDone, settled, session.endCursor, session.checkpoints, onCheckpointSettled]);

  const timeline = useMemo(() => buildTimeline(events), [events]);
  /** Replay time of the playhead; null: at the end, following new events. */
  const [position, setPosition] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<ReplaySpeed>(1);
  const [selected, setSelected] = useState<number | null>(null);

  const visibleCount = position === null ? events.length : eventsAtTime(timeline.times, position);
  const groups = useMemo(() => groupEvents(events, visibleCount), [events, visibleCount]);

  const speedRef = useRef(speed);
  speedRef.current = speed;
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const step = (now - last) * speedRef.current;
      last = now;
      setPosition((current) => (current === null ? null : current + step));
    }, TICK_MS);
    return () => clearInterval(timer);
  }, [playing]);
  // Reaching the end: stop, and follow the session from there.
  useEffect(() => {
    if (position !== null && position >= timeline.duration) {
      setPosition(null);
      setPlaying(false);
    }
  }, [position, timeline.duration]);

  const atPlayhead = events[visibleCount - 1];
  const playheadCheckpoint = atPlayhead?.checkpoint ?? groups.at(-1)?.checkpoint ?? null;
  const shown = selected ?? playheadCheckpoint ?? session.checkpoints.at(-1)?.ordinal ?? null;
  const shownCheckpoint = session.checkpoints.find((checkpoint) => checkpoint.ordinal === shown);
  const shownGroup = groups.find((group) => group.checkpoint === shown);
  const shownStatus = shownGroup?.status;
  const shownEnded = position === null || (shownStatus ? isTerminal(shownStatus) : false);
  const ordinals = useMemo(() => {
    const all = new Set(session.checkpoints.map((checkpoint) => checkpoint.ordinal));
    for (const marker of timeline.markers) all.add(marker.checkpoint);
    return [...all].sort((a, b) => a - b);
  }, [session.checkpoints, timeline.markers]);

  function togglePlay() {
    if (playing) return setPlaying(false);
    setSelected(null);
    if (position === null || position >= timeline.duration) setPosition(0);
    setPlaying(true);
  }

  function seek(value: number) {
    setSelected(null);
    setPosition(value >= timeline.duration ? null : value);
  }

  function jumpTo(ordinal: number) {
    setPlaying(false);
    setSelected(ordinal);
    const marker = timeline.markers.findIndex((m) => m.checkpoint === ordinal);
    if (marker === -1) return;
    // The checkpoint's last event: where its outcome (and screenshot) is.
    const next = timeline.markers[marker + 1];
    const lastIndex = (next ? next.index : events.length) - 1;
    setPosition(lastIndex >= events.length - 1 ? null : (timeline.times[lastIndex] ?? null));
  }

  const scrubberId = useId();
  const scroller = useStickToBottom();
  const current = position ?? timeline.duration;
  const live = !settled;

  const chat = (
    <>
      <div ref={scroller.ref} onScroll={scroller.onScroll} className="min-h-0 flex-1 overflow-y-auto p-3">
        <div>
          {events.length === 0 ? (
            <p className="text-muted-foreground text-sm">Nothing has happened in this session yet.</p>
          ) : (
            <Conversation groups={groups} checkpoints={session.checkpoints} />
          )}
        </div>
      </div>
      <div className="grid shrink-0 grid-cols-1 gap-2 border-t bg-background p-3">
        <div className="flex flex-wrap items-center gap-2">
          <Button
            size="sm"
            onClick={togglePlay}
            aria-label={playing ? "Pause replay" : "Play replay"}
            disabled={events.length === 0}
          >
            {playing ? <PauseIcon aria-hidden /> : <PlayIcon aria-hidden />}
            {playing ? "Pause" : "Play"}
          </Button>
          <fieldset className="flex items-center gap-1">
            <legend className="sr-only">Replay speed</legend>
            {replaySpeeds.map((value) => (
              <Button
                key={value}
                size="sm"
                variant={speed === value ? "secondary" : "ghost"}
                aria-pressed={speed === value}
                aria-label={`${value}× speed`}
                onClick={() => setSpeed(value)}
                className="px-2 tabular-nums"
              >
                {value}×
              </Button>
            ))}
          </fieldset>
          <span className="ml-auto text-muted-foreground text-xs tabular-nums">
            {formatClock(current)} / {formatClock(timeline.duration)}
          </span>
        </div>
        <div className="relative pt-2">
          <div aria-hidden className="pointer-events-none absolute inset-x-0 top-0 h-2">
            {timeline.duration > 0
              ? timeline.markers.map((marker) => (
                  <span
                    key={marker.checkpoint}
                    className="absolute top-0 h-2 w-0.5 -translate-x-1/2 rounded-full bg-primary"
                    style={{ left: `${(marker.time / timeline.duration) * 100}%` }}
                  />
                ))
              : null}
          </div>
          <label htmlFor={scrubberId} className="sr-only">
            Replay position
          </label>
          <input
            id={scrubberId}
            type="range"
            min={0}
            max={Math.max(timeline.duration, 0)}
            step={100}
            value={current}
            disabled={timeline.duration === 0}
            onChange={(event) => seek(Number(event.currentTarget.value))}
            aria-valuetext={`${formatClock(current)} of ${formatClock(timeline.duration)}, event ${visibleCount.toLocaleString("en")} of ${events.length.toLocaleString("en")}`}
            className="w-full accent-primary"
          />
        </div>
        {ordinals.length > 0 ? (
          <nav aria-label="Checkpoints" className="flex gap-1 overflow-x-auto pb-1">
            {ordinals.map((ordinal) => (
              <Button
                key={ordinal}
                size="sm"
                variant={shown === ordinal ? "secondary" : "outline"}
                aria-current={shown === ordinal ? "true" : undefined}
                aria-label={`Jump to checkpoint ${ordinal}`}
                onClick={() => jumpTo(ordinal)}
                className="shrink-0 tabular-nums"
              >
                {ordinal}
              </Button>
            ))}
          </nav>
        ) : null}
      </div>
    </>
  );

  return (
    <div className={cn("flex min-h-0 flex-1 flex-col", className)}>
      <header className="flex shrink-0 flex-wrap items-center gap-2 border-b px-4 py-2">
        <h1 className="min-w-0 flex-1 break-words font-semibold text-base">{session.title}</h1>
        {live ? (
          <Badge variant={stream.connected ? "destructive" : "outline"} aria-live="polite">
            <span
              aria-hidden
              className={cn("size-1.5 rounded-full bg-current", stream.connected && "animate-pulse")}
            />
            {stream.connected ? "Live" : "Connecting…"}
          </Badge>
        ) : null}
        {!backlogDone && !stream.closed ? (
          <p className="w-full text-muted-foreground text-xs" role="status">
            Loading the rest of the session…
          </p>
        ) : null}
        {stream.closed ? (
          <p className="w-full text-muted-foreground text-sm" role="status">
            Live updates stopped: this link may have been revoked.
          </p>
        ) : null}
      </header>

      <SplitPanes
        chat={chat}
        storageKey="kiln.replay.chatWidth"
        previewLabel="The app"
        preview={
          <div className="min-h-0 flex-1 overflow-y-auto p-3">
            {shown !== null ? (
              <CheckpointPanel
                ordinal={shown}
                checkpoint={shownCheckpoint}
                group={shownGroup}
                now={position === null && live ? undefined : (atPlayhead?.at ?? shownGroup?.endedAt)}
                ended={shownEnded}
                showScreenshot={Boolean(shownCheckpoint?.hasScreenshot) && shownEnded}
                screenshotUrl={screenshotUrl(shown)}
                diffUrl={diffUrl(shown)}
              />
            ) : null}
          </div>
        }
      />
    </div>
  );
}
