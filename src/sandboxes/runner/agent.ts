import fs from "node:fs/promises";
import path from "node:path";
import type { AgentCommand, RunConfig } from "../../agents/agent-definition";
import { capShort } from "../../agents/event-text";
import type { AgentNormalizer, TokenUsage } from "../../agents/normalizer";
import { agentDefinition } from "../../agents/registry";
import { LineSplitter } from "./line-splitter";
import { StepOutput } from "./output";
import type { EventPoster } from "./poster";
import { describeExit, runProcess } from "./process";
import type { RunSpec } from "./spec";

/** One headless turn of the coding agent, its JSONL normalised into events as it streams. */

export type AgentTurnInput = {
  spec: RunSpec;
  prompt: string;
  resumeSessionId?: string;
  /** The session's token total before this turn, for an agent that reports running totals (Codex). */
  usageBaseline?: TokenUsage;
  env: Record<string, string>;
  poster: EventPoster;
  timeoutMs: number;
};

export type AgentTurn = {
  ok: boolean;
  sessionId: string | undefined;
  /** Why it failed, for `runner.failed` (short). */
  reason?: string;
  budgetExceeded: boolean;
  /** The session's total after this turn (the next turn's baseline), for an agent that reports running totals. */
  usageTotal?: TokenUsage;
  stats: AgentNormalizer["stats"];
};

/** The agent's config files (Codex's config.toml) written into its HOME, readable by nobody else. */
export async function writeAgentConfig(spec: RunSpec): Promise<RunConfig> {
  const config = agentDefinition(spec.agent).runConfig({
    gatewayBaseUrl: spec.gatewayBaseUrl,
    model: spec.model,
    runToken: spec.runToken,
    home: spec.agentHome,
  });
  await fs.mkdir(spec.agentHome, { recursive: true, mode: 0o700 });
  for (const file of config.files) {
    await fs.mkdir(path.dirname(file.path), { recursive: true, mode: 0o700 });
    await fs.writeFile(file.path, file.content, { mode: 0o600 });
  }
  return config;
}

export async function runAgentTurn(input: AgentTurnInput): Promise<AgentTurn> {
  const { spec, poster } = input;
  const agent = agentDefinition(spec.agent);
  const normalizer = agent.createNormalizer({ workdir: spec.workdir, usageBaseline: input.usageBaseline });
  const failed = (reason: string): AgentTurn => ({
    ok: false,
    sessionId: normalizer.sessionId ?? input.resumeSessionId,
    reason: capShort(reason),
    budgetExceeded: normalizer.budgetExceeded,
    usageTotal: normalizer.usageTotal,
    stats: normalizer.stats,
  });
  let command: AgentCommand;
  try {
    command = agent.command({
      binPath: spec.binPath,
      prompt: input.prompt,
      model: spec.model,
      workdir: spec.workdir,
      resumeSessionId: input.resumeSessionId,
    });
  } catch (error) {
    if (error instanceof Error) return failed(error.message);
    throw error;
  }
  const lines = new LineSplitter();
  const feed = (line: string) => {
    for (const event of normalizer.push(line)) poster.post(event);
  };
  const stderr = new StepOutput(poster, "generate", { maxChars: 64_000 });
  const exit = await runProcess(command.cmd, command.args, {
    cwd: command.cwd,
    env: input.env,
    timeoutMs: input.timeoutMs,
    onStdout: (text) => {
      for (const line of lines.push(text)) feed(line);
    },
    onStderr: (text) => stderr.write("stderr", text),
  });
  for (const line of lines.end()) feed(line);
  for (const event of normalizer.end()) poster.post(event);
  stderr.flush();

  if (normalizer.budgetExceeded) return failed("budget exceeded");
  if (exit.timedOut)
    return failed(`the agent did not finish within ${Math.round(input.timeoutMs / 60_000)} minutes`);
  if (exit.code === 0 && !normalizer.failed) {
    return {
      ok: true,
      sessionId: normalizer.sessionId ?? input.resumeSessionId,
      budgetExceeded: false,
      usageTotal: normalizer.usageTotal,
      stats: normalizer.stats,
    };
  }
  const detail = normalizer.lastError ?? stderr.tail().trim().split("\n").slice(-5).join("\n");
  return failed(`the agent failed (${describeExit(exit)})${detail ? `: ${detail}` : ""}`);
}
