import type { LogChunk } from "./port";

/**
 * A detached command's output: every chunk from the start, kept up to `maxBytes` (oldest chunks are dropped
 * first, and a reader that fell behind is told how much it missed), plus live delivery to any number of readers
 * until the command ends. Bounded so a chatty dev server cannot grow the platform's memory without limit.
 */
export class LogBuffer {
  private readonly chunks: LogChunk[] = [];
  /** Sequence number of `chunks[0]`; readers hold absolute sequence numbers. */
  private firstSeq = 0;
  private bytes = 0;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly maxBytes = 1024 * 1024) {}

  push(chunk: LogChunk): void {
    if (this.closed || chunk.data.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.data.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) {
      const dropped = this.chunks.shift();
      this.bytes -= dropped?.data.length ?? 0;
      this.firstSeq += 1;
    }
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Concatenated text of one stream, as far as it is still held. */
  text(stream: LogChunk["stream"]): string {
    return this.chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.data)
      .join("");
  }

  async *read(): AsyncGenerator<LogChunk> {
    // Start from the very first chunk, so a reader that comes late is told what was dropped before it came.
    let next = 0;
    while (true) {
      if (next < this.firstSeq) {
        yield { stream: "stderr", data: `[kiln: ${this.firstSeq - next} earlier log chunks were dropped]\n` };
        next = this.firstSeq;
      }
      const chunk = this.chunks[next - this.firstSeq];
      if (chunk) {
        next += 1;
        yield chunk;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Keeps the last `maxBytes` characters of a stream (the end of a failing build's output is what matters). */
export class TailText {
  private parts: string[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  append(data: string): void {
    this.parts.push(data);
    this.size += data.length;
    while (this.size > this.maxBytes && this.parts.length > 1) {
      const first = this.parts.shift() ?? "";
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  toString(): string {
    const text = this.parts.join("");
    const prefix = this.dropped > 0 ? `[kiln: ${this.dropped} earlier characters were dropped]\n` : "";
    return prefix + text;
  }
}
