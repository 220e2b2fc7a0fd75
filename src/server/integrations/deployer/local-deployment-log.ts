import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { z } from "zod";
import { BoundedLog, createLogRedactor, type DeploymentLog } from "./deployment-log";

// The local deployer's logs: while a deployment's commands run in this process its log is in memory (read live),
// and written beside the deployment's record (`<id>.log.json`, redacted and bounded like the log itself) at most
// every `flushMs` and when its commands end, so it is still there after a restart.

const fileSchema = z.object({ lines: z.array(z.string()), truncated: z.boolean() });

export type LiveDeploymentLog = {
  append(stream: string, chunk: string): void;
  note(line: string): void;
  /** Takes this deployment's secrets out of text kept elsewhere (the record's error message and error lines). */
  redact(text: string): string;
  /** The commands ended (or the deployment failed): the last lines are written; nothing is added after. */
  end(): Promise<void>;
};

export type LocalDeploymentLogs = {
  start(id: string, secrets: readonly string[]): LiveDeploymentLog;
  /** The live log, else the written one; null when there is none. */
  read(id: string): Promise<DeploymentLog | null>;
  /** Stops writing `id`'s log and deletes it. */
  remove(id: string): Promise<void>;
};

export function createLocalDeploymentLogs(options: {
  fileOf: (id: string) => string;
  flushMs?: number;
}): LocalDeploymentLogs {
  const flushMs = options.flushMs ?? 500;
  const live = new Map<string, { log: BoundedLog; end: () => Promise<void>; closed: boolean }>();

  async function write(id: string, log: DeploymentLog): Promise<void> {
    const file = options.fileOf(id);
    const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    await fs.writeFile(temp, JSON.stringify(log), { mode: 0o600 });
    await fs.rename(temp, file);
  }

  return {
    start(id, secrets) {
      const log = new BoundedLog({ secrets });
      let writing: Promise<void> = Promise.resolve();
      let timer: NodeJS.Timeout | null = null;
      const entry: { log: BoundedLog; closed: boolean; end: () => Promise<void> } = {
        log,
        closed: false,
        end: async () => undefined,
      };
      // Writes are chained, so an older snapshot never lands after a newer one.
      const flush = () => {
        timer = null;
        const snapshot = log.snapshot();
        writing = writing
          .then(() => write(id, snapshot))
          .catch((error: unknown) => console.error(`[kiln] local deploy ${id}: writing its log:`, error));
        return writing;
      };
      const later = () => {
        if (!entry.closed && timer === null) timer = setTimeout(() => void flush(), flushMs);
      };
      entry.end = async () => {
        if (entry.closed) return writing;
        entry.closed = true;
        if (timer) clearTimeout(timer);
        log.end();
        await flush();
        live.delete(id);
      };
      live.set(id, entry);
      void flush();
      return {
        redact: createLogRedactor(secrets),
        append(stream, chunk) {
          if (entry.closed) return;
          log.append(stream, chunk);
          later();
        },
        note(line) {
          if (entry.closed) return;
          log.note(line);
          later();
        },
        end: () => entry.end(),
      };
    },

    async read(id) {
      const running = live.get(id);
      if (running) return running.log.snapshot();
      try {
        return fileSchema.parse(JSON.parse(await fs.readFile(options.fileOf(id), "utf8")));
      } catch (error) {
        if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
        throw error;
      }
    },

    async remove(id) {
      await live.get(id)?.end();
      await fs.rm(options.fileOf(id), { force: true });
    },
  };
}
