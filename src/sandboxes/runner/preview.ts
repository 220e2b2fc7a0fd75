import type { ChildProcess } from "node:child_process";
import { startProcess, stopGroup } from "./process";

/**
 * The app's dev server as the revision's preview. The runner is its parent (it runs in its own process group and
 * outlives the runner's reporting): the runner process stays alive while the preview does.
 */

export type PreviewOptions = {
  workdir: string;
  env: Record<string, string>;
  port: number;
  host: "127.0.0.1" | "0.0.0.0";
  readyTimeoutMs: number;
  onOutput: (stream: "stdout" | "stderr", text: string) => void;
  fetch?: typeof fetch;
};

export type Preview = { child: ChildProcess; exited: Promise<number | null> };

export class PreviewError extends Error {
  override readonly name = "PreviewError";
}

async function answers200(url: string, fetchImpl: typeof fetch): Promise<boolean> {
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(30_000), redirect: "manual" });
    await response.arrayBuffer();
    return response.status === 200;
  } catch (error) {
    // Not listening yet, or still compiling the first page: keep waiting.
    if (error instanceof Error) return false;
    throw error;
  }
}

/** Starts `npm run dev` on the port and waits (bounded) for its first 200; stops it again if that never comes. */
export async function startPreview(options: PreviewOptions): Promise<Preview> {
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
  const url = `http://127.0.0.1:${options.port}/`;
  const deadline = Date.now() + options.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new PreviewError(
        startError
          ? `npm run dev could not start (${startError})`
          : `npm run dev exited with code ${exitCode}`,
      );
    }
    if (await answers200(url, options.fetch ?? fetch)) return { child, exited };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  stopGroup(child);
  throw new PreviewError(
    `the preview did not answer 200 on port ${options.port} within ${options.readyTimeoutMs} ms`,
  );
}
