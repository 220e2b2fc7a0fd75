import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

/** Asks on the terminal; `hidden` keeps a password off the screen. Fails fast when there is no terminal. */
export async function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY)
    throw new Error(`Missing value for "${question.trim()}" and no terminal to ask on`);
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const pending = rl.question(question);
  muted = hidden;
  const answer = await pending;
  rl.close();
  if (hidden) process.stdout.write("\n");
  return answer;
}
