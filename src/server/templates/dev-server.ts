import type { DetachedCommand, SandboxHandle } from "@/server/integrations/sandboxes/port";

export const APP_PORT = 3000;

export class DevServerError extends Error {
  override readonly name = "DevServerError";
}

export type DevServer = { url: string; command: DetachedCommand; firstResponseMs: number };

async function firstAnswer(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: "manual" });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    // Not listening yet, or still compiling past our per-try bound: keep waiting.
    if (error instanceof Error) return null;
    throw error;
  }
}

async function outputOf(command: DetachedCommand, exited: boolean): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of command.logs()) {
    chunks.push(chunk.data);
    if (!exited) break;
  }
  return chunks.join("").trim().split("\n").slice(-20).join("\n");
}

/**
 * Starts the app's `npm run dev` in the sandbox on its preview port and waits (bounded) for the first page to
 * answer 200, bound where the sandbox says serving processes listen (`listenHost`).
 */
export async function startDevServer(
  sandbox: SandboxHandle,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<DevServer> {
  return serve(sandbox, "dev", { ...options, env: { ...options.env, NEXT_TELEMETRY_DISABLED: "1" } });
}

/**
 * Like startDevServer, with `npm run start`: the production server on a `.next` already in the working directory
 * (a checkpoint's verified build), which answers in about a second where a cold `next dev` compiles for many.
 */
export async function startBuiltServer(
  sandbox: SandboxHandle,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<DevServer> {
  return serve(sandbox, "start", {
    ...options,
    env: { ...options.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
}

async function serve(
  sandbox: SandboxHandle,
  script: "dev" | "start",
  options: { env: Record<string, string>; timeoutMs?: number },
): Promise<DevServer> {
  const started = Date.now();
  const port = sandbox.listenPort(APP_PORT);
  const command = await sandbox.runDetached({
    cmd: "npm",
    args: ["run", script, "--", "--port", String(port), "--hostname", sandbox.listenHost],
    env: { ...options.env, PORT: String(port) },
  });
  const what = script === "dev" ? "dev server" : "production server";
  let exitCode: number | null = null;
  void command.wait().then((result) => {
    exitCode = result.exitCode;
  });
  const url = sandbox.url(APP_PORT);
  const deadline = started + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (exitCode !== null) {
      throw new DevServerError(`The ${what} exited with code ${exitCode}:\n${await outputOf(command, true)}`);
    }
    const answer = await firstAnswer(url);
    if (answer?.status === 200) return { url, command, firstResponseMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await command.kill();
  throw new DevServerError(
    `The ${what} did not serve its first page in time:\n${await outputOf(command, false)}`,
  );
}
