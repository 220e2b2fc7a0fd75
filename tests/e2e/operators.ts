import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { e2eServerEnv } from "./env";

// Operators and tokens are made with the same CLI an admin would use, against the e2e server's database.

function runScript(script: string, args: string[]): string {
  return execFileSync("npx", ["tsx", script, ...args], {
    env: { ...process.env, ...e2eServerEnv, npm_config_loglevel: "error" },
    encoding: "utf8",
  });
}

export function createOperator(): { email: string; password: string } {
  const email = `op-${randomBytes(4).toString("hex")}@kiln.test`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  runScript("scripts/user-create.ts", ["--email", email, "--password", password]);
  return { email, password };
}

/** The token is the last line the CLI prints, as the README promises. */
export function createToken(email: string, name = "e2e"): string {
  const output = runScript("scripts/token-create.ts", ["--email", email, "--name", name]).trim().split("\n");
  return output.at(-1) ?? "";
}
