/**
 * Splits a stream of text chunks into lines. A line longer than `maxLineChars` is dropped whole (counted), so one
 * enormous JSON line cannot exhaust the runner's memory.
 */
export class LineSplitter {
  private buffer = "";
  private dropping = false;
  oversized = 0;

  constructor(private readonly maxLineChars = 16 * 1024 * 1024) {}

  push(chunk: string): string[] {
    const lines: string[] = [];
    let rest = chunk;
    for (;;) {
      const newline = rest.indexOf("\n");
      if (newline === -1) break;
      const piece = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (this.dropping) {
        this.dropping = false;
        this.buffer = "";
        continue;
      }
      lines.push(this.buffer + piece);
      this.buffer = "";
    }
    if (!this.dropping) {
      this.buffer += rest;
      if (this.buffer.length > this.maxLineChars) {
        this.dropping = true;
        this.oversized += 1;
        this.buffer = "";
      }
    }
    return lines;
  }

  /** The last line when the stream ended without a newline. */
  end(): string[] {
    const last = this.dropping ? "" : this.buffer;
    this.buffer = "";
    this.dropping = false;
    return last ? [last] : [];
  }
}
