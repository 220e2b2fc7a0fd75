import type { ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { startProcess, stopGroup } from "./process";

/**
 * The app's dev server as the revision's preview, started with the run (before the agent's turn) so its boot and
 * first compile happen while the agent works; it hot-reloads the agent's edits, so the preview is ready moments
 * after the agent is done and is served while the build verifies (`next dev` writes to `.next/dev`, `next build`
 * to `.next`: they run side by side). The runner is its parent (it runs in its own process group and outlives the
 * runner's reporting): the runner process stays alive while the preview does.
 *
 * It is restarted once if it is found dead: the agent shares the sandbox and is told to stop any dev server it
 * started, so it may stop this one too; a restart costs one cold start, far less than failing a good checkpoint.
 * A second death is the app's own doing and fails the run with the server's exit and output.
 */

export type PreviewOptions = {
  workdir: string;
  env: Record<string, string>;
  port: number;
  host: "127.0.0.1" | "0.0.0.0";
  onOutput: (stream: "stdout" | "stderr", text: string) => void;
  fetch?: typeof fetch;
  /** How long a page that answers, but not 200, is given to come right (a compile error settles as a 500). */
  settleMs?: number;
  /** How often the sources are looked at for the agent's edits while it works (each change is compiled). */
  rewarmMs?: number;
};

export type Preview = { child: ChildProcess; exited: Promise<number | null> };

export class PreviewError extends Error {
  override readonly name = "PreviewError";
}

type Answer = { status: number } | { error: string };

async function ask(url: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<Answer> {
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.arrayBuffer();
    return { status: response.status };
  } catch (error) {
    // Not listening yet, or still compiling past the bound: the caller keeps waiting.
    if (error instanceof Error) return { error: error.message };
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Running = Preview & { exitCode: () => number | null | undefined; startError: () => string | undefined };

export class DevServer {
  private running: Running | undefined;
  private restarted = false;
  /** True until someone waits for the preview: until then the agent may still be editing. */
  private warming = true;
  /** Ends the warming loop's current wait between looks at the sources (set while it waits). */
  private lookSooner: (() => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly url: string;

  constructor(private readonly options: PreviewOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.url = `http://127.0.0.1:${options.port}/`;
  }

  /** Starts `npm run dev` and, in the background, asks for its pages once it listens (their first compile). */
  start(warmForMs: number): void {
    const options = this.options;
    const child = startProcess(
      "npm",
      ["run", "dev", "--", "--port", String(options.port), "--hostname", options.host],
      {
        cwd: options.workdir,
        env: { ...options.env, PORT: String(options.port), NEXT_TELEMETRY_DISABLED: "1" },
        onStdout: (text) => options.onOutput("stdout", text),
        onStderr: (text) => options.onOutput("stderr", text),
      },
    );
    let exitCode: number | null | undefined;
    let startError: string | undefined;
    const exited = new Promise<number | null>((resolve) => {
      child.on("error", (error) => {
        startError = error.message;
      });
      child.on("close", (code) => {
        exitCode = code;
        resolve(code);
      });
    });
    const running: Running = { child, exited, exitCode: () => exitCode, startError: () => startError };
    this.running = running;
    void this.warm(running, warmForMs).catch((error: unknown) => {
      if (!(error instanceof Error)) throw error;
      // Warming only saves time: whoever waits for the preview still asks for it and reports what went wrong.
      options.onOutput("stderr", `[kiln-runner] warming the preview stopped: ${error.message}\n`);
    });
  }

  /**
   * The page and the platform's health check, compiled before anyone waits for them: once the server listens, and
   * again after each change under `src/` while the agent works, so its edits are compiled as they come (the
   * preview is then a render away when the agent is done, not a compile of everything it wrote).
   */
  private async warm(running: Running, forMs: number): Promise<void> {
    const deadline = Date.now() + forMs;
    const alive = () => running.exitCode() === undefined;
    const askBoth = async (timeoutMs: number) => {
      await ask(this.url, this.fetchImpl, timeoutMs);
      await ask(`${this.url}api/health`, this.fetchImpl, timeoutMs);
    };
    let seen = 0;
    for (;;) {
      if (Date.now() >= deadline || !alive()) return;
      // Looked at before the page is asked for: whatever changes during its compile is asked for again.
      seen = await this.latestSourceChange();
      const answer = await ask(this.url, this.fetchImpl, Math.max(1, deadline - Date.now()));
      if ("status" in answer) break;
      await sleep(250);
    }
    await ask(`${this.url}api/health`, this.fetchImpl, 120_000);
    while (this.warming && alive()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.rewarmMs ?? 2_000);
        this.lookSooner = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.lookSooner = undefined;
      const latest = await this.latestSourceChange();
      if (latest > seen && this.warming) {
        seen = latest;
        await askBoth(120_000);
      }
    }
  }

  /**
   * The newest modification time under `src/`, directories included (a file added or removed changes its
   * directory's); 0 when there is no `src/`. The agent's edits, as the compiler sees them.
   */
  private async latestSourceChange(): Promise<number> {
    const root = path.join(this.options.workdir, "src");
    try {
      const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
      let latest = (await fs.stat(root)).mtimeMs;
      for (const entry of entries) {
        const stat = await fs.stat(path.join(entry.parentPath, entry.name)).catch((error: unknown) => {
          // Deleted between the listing and the look: the next look sees the directory as it is then.
          if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
          throw error;
        });
        if (stat && stat.mtimeMs > latest) latest = stat.mtimeMs;
      }
      return latest;
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") return 0;
      throw error;
    }
  }

  /**
   * The agent's turn ended: its last edits are looked at (and their page asked for) now rather than at the next
   * look, so they compile while migrations run instead of after.
   */
  lookNow(): void {
    this.lookSooner?.();
  }

  get port(): number {
    return this.options.port;
  }

  /** The server as it is now, for the runner to stay alive with (undefined before `start`). */
  get preview(): Preview | undefined {
    return this.running;
  }

  /**
   * Waits (bounded) for `/` to answer 200, restarting the server once if it is dead. Throws PreviewError when the
   * server died again, the page kept answering something else for `settleMs`, or nothing came in time.
   */
  async ready(timeoutMs: number): Promise<Preview> {
    this.warming = false;
    const deadline = Date.now() + timeoutMs;
    const settleMs = this.options.settleMs ?? 10_000;
    // Compiled beside the page: the platform's check asks for it as soon as the preview is reported.
    void ask(`${this.url}api/health`, this.fetchImpl, Math.max(1, Math.min(120_000, timeoutMs)));
    let wrongSince: number | undefined;
    for (;;) {
      const running = this.running;
      if (!running) throw new PreviewError("the dev server was never started");
      const code = running.exitCode();
      if (code !== undefined) {
        const why = running.startError()
          ? `npm run dev could not start (${running.startError()})`
          : `npm run dev exited with code ${code}`;
        if (this.restarted) throw new PreviewError(`${why}, after one restart`);
        this.restarted = true;
        this.start(Math.max(1, deadline - Date.now()));
        wrongSince = undefined;
        continue;
      }
      const answer = await ask(
        this.url,
        this.fetchImpl,
        Math.max(1, Math.min(30_000, deadline - Date.now())),
      );
      if ("status" in answer && answer.status === 200) return running;
      if ("status" in answer) {
        wrongSince ??= Date.now();
        if (Date.now() - wrongSince >= settleMs)
          throw new PreviewError(`the preview answered ${answer.status} on / instead of 200`);
      } else wrongSince = undefined;
      if (Date.now() >= deadline) {
        throw new PreviewError(
          `the preview did not answer 200 on port ${this.options.port} within ${timeoutMs} ms`,
        );
      }
      await sleep(250);
    }
  }

  stop(): void {
    if (this.running) stopGroup(this.running.child);
  }
}
