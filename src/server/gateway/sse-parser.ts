/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream rules: lines end in CRLF, LF or CR; `event:`
 * and `data:` fields; a blank line dispatches). Fed raw chunks as they pass through the gateway, so lines, events
 * and UTF-8 characters may be split anywhere between chunks.
 *
 * `wants(eventName)` lets the caller skip buffering the data of events it does not care about (most of a model
 * stream is text deltas); an event without an `event:` line is always buffered. An event whose data grows past
 * `maxEventChars` is dropped rather than held in memory.
 */
export type SseEventHandler = (event: string, data: string) => void;

export type SseParserOptions = {
  onEvent: SseEventHandler;
  wants?: (eventName: string) => boolean;
  maxEventChars?: number;
};

export class SseParser {
  readonly #onEvent: SseEventHandler;
  readonly #wants: (eventName: string) => boolean;
  readonly #maxEventChars: number;
  readonly #decoder = new TextDecoder();
  readonly #lineEnd = /[\r\n]/g;
  #pending = "";
  /** Where to resume looking for a line end in `#pending` (everything before it holds none). */
  #scanFrom = 0;
  #event = "";
  #data: string[] = [];
  #dataChars = 0;
  #skipping = false;
  #overflowed = false;
  /** The rest of a line already dropped for its length is still to come: ignore it up to its end. */
  #discardLine = false;

  constructor(options: SseParserOptions) {
    this.#onEvent = options.onEvent;
    this.#wants = options.wants ?? (() => true);
    this.#maxEventChars = options.maxEventChars ?? 16 * 1024 * 1024;
  }

  push(chunk: Uint8Array): void {
    this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended. A last event without its closing blank line is still dispatched: the usage may be in it. */
  end(): void {
    this.#feed(this.#decoder.decode());
    if (this.#pending.length > 0 && !this.#discardLine) {
      const last = this.#pending.endsWith("\r") ? this.#pending.slice(0, -1) : this.#pending;
      this.#pending = "";
      this.#scanFrom = 0;
      this.#line(last);
    }
    this.#dispatch();
  }

  #feed(text: string): void {
    if (text.length === 0) return;
    this.#pending += text;
    let start = 0;
    const lineEnd = this.#lineEnd;
    lineEnd.lastIndex = this.#scanFrom;
    for (let match = lineEnd.exec(this.#pending); match; match = lineEnd.exec(this.#pending)) {
      const end = match.index;
      let next = end + 1;
      if (this.#pending[end] === "\r") {
        // A CR at the very end may be the first half of a CRLF split between chunks: wait for the next chunk.
        if (next >= this.#pending.length) break;
        if (this.#pending[next] === "\n") next++;
      }
      if (this.#discardLine) this.#discardLine = false;
      else this.#line(this.#pending.slice(start, end));
      start = next;
      lineEnd.lastIndex = next;
    }
    this.#pending = this.#pending.slice(start);
    this.#scanFrom = Math.max(0, this.#pending.length - (this.#pending.endsWith("\r") ? 1 : 0));
    if (this.#pending.length > this.#maxEventChars) {
      // One endless line: forget it and the event it belongs to.
      this.#pending = "";
      this.#scanFrom = 0;
      this.#overflowed = true;
      this.#discardLine = true;
    }
  }

  #line(line: string): void {
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") {
      this.#event = value;
      this.#skipping = !this.#wants(value);
    } else if (field === "data" && !this.#skipping && !this.#overflowed) {
      this.#dataChars += value.length + 1;
      if (this.#dataChars > this.#maxEventChars) {
        this.#overflowed = true;
        this.#data = [];
      } else {
        this.#data.push(value);
      }
    }
  }

  #dispatch(): void {
    const event = this.#event;
    const data = this.#data;
    const deliver = data.length > 0 && !this.#skipping && !this.#overflowed;
    this.#event = "";
    this.#data = [];
    this.#dataChars = 0;
    this.#skipping = false;
    this.#overflowed = false;
    if (deliver) this.#onEvent(event, data.join("\n"));
  }
}
