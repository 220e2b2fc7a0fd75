import { execFile } from "node:child_process";
import path from "node:path";
import { scrub } from "@/server/integrations/provider-error";
import { asProcessEnv } from "@/server/process-env";

/**
 * What npm (and a package's install script) may see of the platform's environment: how to reach the registry
 * (proxy, CA bundle, npm's own config) and nothing else. Platform secrets (model keys, KILN_SECRET_KEY,
 * DATABASE_URL) never reach a process that runs code downloaded from the registry.
 */
const passedNames = new Set([
  "HOME",
  "USER",
  "LANG",
  "LC_ALL",
  "TMPDIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
]);

/**
 * npm's own settings that say how to reach the registry. Not the ones `npm run` injects into a script's
 * environment (local_prefix, prefix, user_agent…): the install must depend only on its own directory.
 */
const npmSettings = new Set([
  "registry",
  "userconfig",
  "globalconfig",
  "cache",
  "cafile",
  "ca",
  "strict_ssl",
  "proxy",
  "https_proxy",
  "noproxy",
  "fetch_retries",
  "fetch_timeout",
  "prefer_offline",
  "_auth",
  "_authtoken",
]);

function isNpmSetting(name: string): boolean {
  const match = /^npm_config_(.+)$/i.exec(name);
  const setting = match?.[1]?.toLowerCase().replace(/-/g, "_");
  return setting !== undefined && (npmSettings.has(setting) || /^@[\w.-]+:registry$/.test(setting));
}

export function npmEnv(hostEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value !== undefined && (passedNames.has(name) || isNpmSetting(name))) env[name] = value;
  }
  // npm's launcher is `#!/usr/bin/env node`: the platform's own Node must come first.
  const hostPath = hostEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  env.PATH = `${path.dirname(process.execPath)}:${hostPath}`;
  env.npm_config_update_notifier = "false";
  env.npm_config_fund = "false";
  env.npm_config_audit = "false";
  return env;
}

/** Values an error message must never repeat (npm's registry auth, if the operator configured one). */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name]) => /token|secret|password|passwd|auth|key|credential/i.test(name))
    .map(([, value]) => value ?? "")
    .filter((value) => value.length >= 4);
}

export type RunResult = { stdout: string; stderr: string };

export type RunFailure = {
  /** "missing": the executable does not exist; "timeout": killed after the bound; "exit": non-zero exit. */
  reason: "missing" | "timeout" | "exit";
  exitCode: number | null;
  /** The last lines of stderr (or stdout when stderr is empty), scrubbed. */
  tail: string;
};

export class RunFailed extends Error {
  constructor(
    readonly failure: RunFailure,
    options: { cause: unknown },
  ) {
    super(`command failed (${failure.reason})`, options);
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n").slice(-2000);
}

/** Runs a file with an argument array (no shell), bounded in time; a failure carries the scrubbed output tail. */
export function runFile(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; secrets: string[] },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: asProcessEnv(options.env),
        timeout: options.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const code = "code" in error ? error.code : undefined;
        const missing = code === "ENOENT" || code === "EACCES";
        const timedOut = error.killed === true && error.signal === "SIGKILL";
        const output = stderr.trim() ? stderr : stdout;
        reject(
          new RunFailed(
            {
              reason: missing ? "missing" : timedOut ? "timeout" : "exit",
              exitCode: typeof code === "number" ? code : null,
              tail: scrub(lastLines(output, 12), options.secrets),
            },
            { cause: error },
          ),
        );
      },
    );
  });
}
