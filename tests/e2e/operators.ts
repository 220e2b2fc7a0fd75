import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { e2eServerEnv } from "./env";

// Operators and tokens are made with the same CLI an admin would use, against the e2e server's database (or, with
// `env`, another server's: the durability spec runs servers of its own).

type ServerEnv = Record<string, string>;

function runScript(script: string, args: string[], env: ServerEnv): string {
  return execFileSync("npx", ["tsx", script, ...args], {
    env: { ...process.env, ...env, npm_config_loglevel: "error" },
    encoding: "utf8",
  });
}

export function createOperator(env: ServerEnv = e2eServerEnv): { email: string; password: string } {
  const email = `op-${randomBytes(4).toString("hex")}@kiln.test`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  runScript("scripts/user-create.ts", ["--email", email, "--password", password], env);
  return { email, password };
}

/** The token is the last line the CLI prints, as the README promises. */
export function createToken(email: string, name = "e2e", env: ServerEnv = e2eServerEnv): string {
  const output = runScript("scripts/token-create.ts", ["--email", email, "--name", name], env)
    .trim()
    .split("\n");
  return output.at(-1) ?? "";
}
