import type { StepName } from "../../server/events/schema";
import type { EventPoster } from "./poster";

/**
 * A step's command output as `runner.output` events: chunks coalesced (up to 16 KB or 200 ms), capped per step
 * attempt so one chatty build cannot flood the event log, with the tail kept for failure reasons and the agent's
 * fix prompt.
 */

export type OutputOptions = { maxChars?: number; tailChars?: number; chunkChars?: number; delayMs?: number };

type Stream = "stdout" | "stderr";

export class StepOutput {
  private readonly pending: Record<Stream, string> = { stdout: "", stderr: "" };
  private sent = 0;
  private truncated = false;
  private tailText = "";
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly maxChars: number;
  private readonly tailChars: number;
  private readonly chunkChars: number;

  constructor(
    private readonly poster: EventPoster,
    private readonly step: StepName,
    private readonly options: OutputOptions = {},
  ) {
    this.maxChars = options.maxChars ?? 256_000;
    this.tailChars = options.tailChars ?? 8_000;
    this.chunkChars = options.chunkChars ?? 16_000;
  }

  write(stream: Stream, text: string): void {
    this.tailText = (this.tailText + text).slice(-this.tailChars);
    if (this.truncated) return;
    this.pending[stream] += text;
    if (this.pending[stream].length >= this.chunkChars) this.send(stream);
    else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs ?? 200);
  }

  /** The last few KB of both streams, interleaved as they came. */
  tail(): string {
    return this.tailText;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.send("stdout");
    this.send("stderr");
  }

  private send(stream: Stream): void {
    const text = this.pending[stream];
    this.pending[stream] = "";
    for (let at = 0; at < text.length && !this.truncated; at += this.chunkChars) {
      let chunk = text.slice(at, at + this.chunkChars);
      const room = this.maxChars - this.sent;
      if (chunk.length > room) {
        chunk = `${chunk.slice(0, room)}\n…[output truncated; the rest of it is not shown]\n`;
        this.truncated = true;
      }
      this.sent += chunk.length;
      this.poster.post({ type: "runner.output", payload: { step: this.step, stream, text: chunk } });
    }
  }
}
