"use client";

import { MessageSquareIcon, MonitorIcon } from "lucide-react";
import { type KeyboardEvent, type PointerEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { cn } from "@/lib/utils";

const DEFAULT_WIDTH = 420;
const MIN_WIDTH = 320;
/** The chat never takes more than this share of the window: the preview is what the operator builds. */
const MAX_SHARE = 0.4;
const KEY_STEP = 32;

function clampWidth(width: number, total: number): number {
  return Math.round(Math.min(Math.max(width, MIN_WIDTH), Math.max(MIN_WIDTH, total * MAX_SHARE)));
}

type Pane = "chat" | "preview";

/**
 * A session's two panes, in the workspace and the replay. Wide screens: the chat on the left at a width the viewer
 * drags (or sets with the arrow keys on the divider; remembered on this browser under `storageKey`), the preview
 * filling the rest at full height. Phones: one pane at a time, switched at the top.
 */
export function SplitPanes(props: {
  chat: ReactNode;
  preview: ReactNode;
  storageKey: string;
  /** The preview pane's name (a landmark); the chat's is "Conversation". */
  previewLabel: string;
}) {
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  const [dragging, setDragging] = useState(false);
  const [pane, setPane] = useState<Pane>("chat");
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const stored = Number(window.localStorage.getItem(props.storageKey));
    if (Number.isFinite(stored) && stored > 0) setWidth(clampWidth(stored, window.innerWidth));
  }, [props.storageKey]);

  function commit(next: number) {
    const total = container.current?.clientWidth ?? window.innerWidth;
    const clamped = clampWidth(next, total);
    setWidth(clamped);
    window.localStorage.setItem(props.storageKey, String(clamped));
  }

  function onPointerDown(event: PointerEvent<HTMLDivElement>) {
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    setDragging(true);
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>) {
    if (!dragging) return;
    const left = container.current?.getBoundingClientRect().left ?? 0;
    commit(event.clientX - left);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === "ArrowLeft") commit(width - KEY_STEP);
    else if (event.key === "ArrowRight") commit(width + KEY_STEP);
    else return;
    event.preventDefault();
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <fieldset className="flex shrink-0 gap-1 border-b p-2 lg:hidden" aria-label="Show">
        {(
          [
            { value: "chat", label: "Chat", icon: MessageSquareIcon },
            { value: "preview", label: "Preview", icon: MonitorIcon },
          ] as const
        ).map((option) => (
          <button
            key={option.value}
            type="button"
            aria-pressed={pane === option.value}
            onClick={() => setPane(option.value)}
            className={cn(
              "flex flex-1 items-center justify-center gap-1.5 rounded-md px-3 py-1.5 font-medium text-muted-foreground text-sm",
              pane === option.value && "bg-accent text-accent-foreground",
            )}
          >
            <option.icon className="size-4" aria-hidden />
            {option.label}
          </button>
        ))}
      </fieldset>
      <div ref={container} className="flex min-h-0 flex-1">
        <section
          aria-label="Conversation"
          className={cn(
            "min-h-0 min-w-0 flex-col lg:flex lg:w-[var(--chat-width)] lg:shrink-0",
            pane === "chat" ? "flex w-full" : "hidden",
          )}
          style={{ "--chat-width": `${width}px` } as React.CSSProperties}
        >
          {props.chat}
        </section>
        {/* biome-ignore lint/a11y/useSemanticElements: a draggable divider; <hr> cannot take focus or pointer moves */}
        <div
          role="separator"
          aria-orientation="vertical"
          aria-label="Resize the chat"
          aria-valuenow={width}
          aria-valuemin={MIN_WIDTH}
          tabIndex={0}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={() => setDragging(false)}
          onPointerCancel={() => setDragging(false)}
          onKeyDown={onKeyDown}
          className={cn(
            "hidden w-1.5 shrink-0 cursor-col-resize border-l bg-transparent transition-colors hover:bg-primary/20 focus-visible:bg-primary/30 focus-visible:outline-none lg:block",
            dragging && "bg-primary/30",
          )}
        />
        <section
          aria-label={props.previewLabel}
          className={cn(
            "min-h-0 min-w-0 flex-1 flex-col lg:flex",
            pane === "preview" ? "flex" : "hidden",
            // The preview's frame would swallow the pointer while the divider is dragged over it.
            dragging && "pointer-events-none select-none",
          )}
        >
          {props.preview}
        </section>
      </div>
    </div>
  );
}
