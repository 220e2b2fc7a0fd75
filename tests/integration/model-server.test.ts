import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { claudeCommand } from "../../src/agents/claude-code/command";
import { claudeRunEnv } from "../../src/agents/claude-code/run-env";
import { codexCommand } from "../../src/agents/codex/command";
import { codexRunConfig } from "../../src/agents/codex/run-config";
import { asProcessEnv } from "../../src/server/process-env";
import { ensureToolchain, type Toolchain } from "../../src/server/toolchains/install";
import {
  loadScenario,
  type ModelServer,
  scenarioFiles,
  scenarioNames,
  startModelServer,
} from "../fakes/model-server";
import { rejectionOf } from "../helpers/errors";
import { type RunResult, TEMPLATE_DIR, templateFiles } from "../helpers/template";

// The scripted model server is what every pipeline test talks to instead of OpenAI and Anthropic, so its wire
// shapes must be the ones the official SDKs and the real agent CLIs accept. The CLI tests run Codex and Claude Code
// (from the shared toolchain cache) on the host, in a temp copy of the app template.

const runToken = "krt_model-server-test-token";
const roots: string[] = [];

afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

async function withServer<T>(
  options: Parameters<typeof startModelServer>[0],
  body: (server: ModelServer) => Promise<T>,
): Promise<T> {
  const server = await startModelServer(options);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

function openai(server: ModelServer, apiKey = runToken): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: server.openaiBaseUrl,
    maxRetries: 0,
    timeout: 5_000,
    organization: null,
    project: null,
    logLevel: "off",
  });
}

function anthropic(server: ModelServer, apiKey = runToken): Anthropic {
  return new Anthropic({
    apiKey,
    baseURL: server.url,
    maxRetries: 0,
    timeout: 5_000,
    logLevel: "off",
    defaultHeaders: { "x-api-key": apiKey, authorization: null },
  });
}

describe("the model server, through the official SDKs", () => {
  it("has every scenario the pipeline tests rely on, and each one parses", () => {
    expect(scenarioNames()).toEqual(
      expect.arrayContaining([
        "plan-todo",
        "codex-todo-app",
        "claude-todo-app",
        "codex-add-username",
        "claude-add-username",
        "loop-tool-calls",
        "upstream-500",
        "upstream-hang",
      ]),
    );
    for (const name of scenarioNames()) expect(loadScenario(name).name).toBe(name);
    const files = scenarioFiles(loadScenario("codex-todo-app"));
    expect([...files.keys()]).toContain("src/app/page.tsx");
    expect([...files.keys()].some((file) => /^migrations\/2026\d{10}_create_todos\.ts$/.test(file))).toBe(
      true,
    );
    expect(scenarioFiles(loadScenario("claude-todo-app"))).toEqual(files);
  });

  it("streams a Responses answer the openai SDK assembles, with usage, and records the request", async () => {
    await withServer(
      {
        scenario: {
          name: "inline",
          usage: { input: 300, output: 40, cached: 120 },
          turns: [{ reply: { kind: "shell", command: "echo hi", say: "Running it." } }],
        },
        auth: { bearer: runToken },
      },
      async (server) => {
        const stream = await openai(server).responses.create({
          model: "gpt-5.5",
          input: [{ role: "user", content: "say hi" }],
          stream: true,
        });
        const types: string[] = [];
        let completed: OpenAI.Responses.Response | undefined;
        for await (const event of stream) {
          types.push(event.type);
          if (event.type === "response.completed") completed = event.response;
        }
        expect(types[0]).toBe("response.created");
        expect(types.at(-1)).toBe("response.completed");
        expect(types).toContain("response.output_text.delta");
        expect(types).toContain("response.function_call_arguments.delta");
        expect(completed?.output).toMatchObject([
          { type: "message", content: [{ type: "output_text", text: "Running it." }] },
          { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "echo hi" }) },
        ]);
        expect(completed?.usage).toMatchObject({
          input_tokens: 300,
          output_tokens: 40,
          input_tokens_details: { cached_tokens: 120 },
        });
        const [request] = server.modelRequests();
        expect(request).toMatchObject({
          method: "POST",
          path: "/v1/responses",
          body: { model: "gpt-5.5", stream: true },
          conversation: { api: "openai", step: 0, prompt: "say hi" },
          turn: 0,
        });
        expect(request?.headers.authorization).toBe(`Bearer ${runToken}`);
      },
    );
  });

  it("streams a Messages answer the Anthropic SDK assembles, tool input and usage included", async () => {
    await withServer(
      {
        scenario: {
          name: "inline",
          usage: { input: 500, output: 60, cached: 200 },
          turns: [{ reply: { kind: "write", path: "notes/a.txt", content: ["one", "two"] } }],
        },
        auth: { apiKey: runToken },
      },
      async (server) => {
        const message = await anthropic(server)
          .messages.stream({
            model: "claude-sonnet-4-5",
            max_tokens: 100,
            system: "Primary working directory: /work/app",
            messages: [{ role: "user", content: "write notes" }],
          })
          .finalMessage();
        expect(message.stop_reason).toBe("tool_use");
        expect(message.content).toMatchObject([
          {
            type: "tool_use",
            name: "Write",
            input: { file_path: "/work/app/notes/a.txt", content: "one\ntwo\n" },
          },
        ]);
        expect(message.usage).toMatchObject({
          input_tokens: 300,
          cache_read_input_tokens: 200,
          output_tokens: 60,
        });
        expect(server.modelRequests()[0]?.headers["x-api-key"]).toBe(runToken);
      },
    );
  });

  it("answers structured output as JSON text (OpenAI) or as the forced tool's input (Anthropic), unstreamed", async () => {
    await withServer({ scenario: "plan-todo" }, async (server) => {
      const response = await openai(server).responses.create({
        model: "gpt-5.5",
        input: "plan",
        text: { format: { type: "json_schema", name: "plan", schema: { type: "object" }, strict: true } },
      });
      expect(JSON.parse(response.output_text)).toMatchObject({ slug: "todo-list" });
      const message = await anthropic(server).messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 100,
        messages: [{ role: "user", content: "plan" }],
        tools: [{ name: "submit_plan", input_schema: { type: "object" } }],
        tool_choice: { type: "tool", name: "submit_plan" },
      });
      expect(message.content).toMatchObject([
        { type: "tool_use", name: "submit_plan", input: { slug: "todo-list" } },
      ]);
    });
  });

  it("answers errors in each API's own shape, a wrong key with 401, and an unscripted request with 500", async () => {
    await withServer(
      {
        scenario: {
          name: "inline",
          turns: [
            { when: { request: 0 }, reply: { kind: "error", status: 429, retryAfterSeconds: 7 } },
            { when: { api: "anthropic", request: 1 }, reply: { kind: "error", status: 529 } },
            { when: { promptContains: "known" }, reply: { kind: "text", text: "ok" } },
          ],
        },
        auth: { bearer: runToken, apiKey: runToken },
      },
      async (server) => {
        const limited = await rejectionOf(openai(server).responses.create({ model: "m", input: "x" }));
        if (!(limited instanceof OpenAI.RateLimitError))
          throw new Error(`expected a 429, got ${String(limited)}`);
        expect(limited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
        expect(limited.headers?.get("retry-after")).toBe("7");

        const overloaded = await rejectionOf(
          anthropic(server).messages.create({
            model: "m",
            max_tokens: 5,
            messages: [{ role: "user", content: "x" }],
          }),
        );
        expect(overloaded).toMatchObject({ status: 529, error: { error: { type: "overloaded_error" } } });

        const secret = "sk-wrong-key-ab12cd34ef56";
        const denied = await rejectionOf(
          openai(server, secret).responses.create({ model: "m", input: "known" }),
        );
        expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
        expect(String(denied)).not.toContain(secret);

        const unscripted = await rejectionOf(openai(server).responses.create({ model: "m", input: "other" }));
        expect(unscripted).toMatchObject({ status: 500 });
        expect(String(unscripted)).toContain("no turn matches");
        expect(server.modelRequests().map((request) => request.turn)).toEqual([0, 1, undefined, undefined]);
      },
    );
  });

  it("hangs when told to, until the client gives up", async () => {
    await withServer({ scenario: "upstream-hang" }, async (server) => {
      const started = Date.now();
      const error = await rejectionOf(
        new OpenAI({
          apiKey: "k",
          baseURL: server.openaiBaseUrl,
          maxRetries: 0,
          timeout: 300,
        }).responses.create({
          model: "m",
          input: "x",
        }),
      );
      expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The real CLIs

function sharedCacheRoot(): string {
  // Same cache as tests/integration/toolchains: installed once per machine, found at once afterwards.
  for (const base of ["/var/tmp", os.tmpdir()]) {
    const root = path.join(base, "kiln-toolchains-cache");
    try {
      fs.mkdirSync(root, { recursive: true });
      return root;
    } catch (error) {
      if (
        !(error instanceof Error && "code" in error && (error.code === "EACCES" || error.code === "EROFS"))
      ) {
        throw error;
      }
    }
  }
  throw new Error("no writable directory for the toolchain cache");
}

let codex: Toolchain;
let claude: Toolchain;

/** A temp copy of the template's files (no node_modules): what the agent sees in a fresh sandbox. */
async function appCopy(): Promise<string> {
  const dir = path.join(tempDir("kiln-model-server-app-"), "app");
  for (const file of await templateFiles()) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(TEMPLATE_DIR, file), path.join(dir, file));
  }
  return dir;
}

function hostEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return asProcessEnv({ PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, LANG: "C.UTF-8", ...extra });
}

/** Runs an agent command with stdin closed (Codex appends a piped stdin to the prompt and waits for its end). */
function runAgent(
  command: { cmd: string; args: string[]; cwd: string },
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.cmd, command.args, {
      cwd: command.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 124 : 1), stdout, stderr });
    });
  });
}

const jsonObject = z.record(z.string(), z.unknown());

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => jsonObject.parse(JSON.parse(line)));
}

const codexItem = z.object({ type: z.string(), text: z.string().optional() });
const claudeUserEvent = z.object({
  message: z.object({
    content: z.array(z.object({ type: z.string(), is_error: z.boolean().optional() })).or(z.string()),
  }),
});
const requestTools = z.object({ tools: z.array(z.object({ name: z.string().optional() })) });

function expectFilesWritten(dir: string, scenarioName: string): void {
  for (const [file, content] of scenarioFiles(loadScenario(scenarioName))) {
    expect(fs.readFileSync(path.join(dir, file), "utf8"), file).toBe(content);
  }
}

describe("the real agent CLIs against the scripted scenarios", () => {
  beforeAll(async () => {
    const cacheRoot = sharedCacheRoot();
    codex = await ensureToolchain({ cacheRoot, agent: "codex" });
    claude = await ensureToolchain({ cacheRoot, agent: "claude-code" });
  }, 20 * 60_000);

  it("Codex builds the todo app, then adds the username column in a resumed session", async () => {
    await withServer({ scenario: "codex-todo-app", auth: { bearer: runToken } }, async (server) => {
      const workdir = await appCopy();
      const home = tempDir("kiln-model-server-home-");
      const model = "gpt-5.1-codex";
      const config = codexRunConfig({ gatewayBaseUrl: server.url, model, runToken, home });
      for (const file of config.files) {
        fs.mkdirSync(path.dirname(file.path), { recursive: true });
        fs.writeFileSync(file.path, file.content);
      }
      const first = codexCommand({
        binPath: codex.binPath,
        prompt: "build a todo app",
        model,
        workdir,
      });
      const result = await runAgent(first, hostEnv(config.env));
      expect(result.code, result.stderr).toBe(0);
      expectFilesWritten(workdir, "codex-todo-app");
      const events = jsonLines(result.stdout);
      const messages = events
        .filter((event) => event.type === "item.completed")
        .map((event) => codexItem.parse(event.item));
      expect(messages.filter((item) => item.type === "command_execution")).toHaveLength(6);
      expect(messages.at(-1)).toMatchObject({
        type: "agent_message",
        text: expect.stringContaining("todo app is ready"),
      });
      const requests = server.modelRequests();
      expect(requests.map((request) => request.conversation?.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(requests[0]?.conversation?.prompt).toBe("build a todo app");
      expect(requests[0]?.conversation?.cwd).toBe(workdir);
      for (const request of requests) expect(request.headers.authorization).toBe(`Bearer ${runToken}`);
      const usage = events.find((event) => event.type === "turn.completed")?.usage;
      expect(usage).toMatchObject({
        input_tokens: 7 * 2400,
        cached_input_tokens: 7 * 1800,
        output_tokens: 7 * 350,
      });

      server.useScenario("codex-add-username");
      const threadId = String(events.find((event) => event.type === "thread.started")?.thread_id);
      const next = codexCommand({
        binPath: codex.binPath,
        prompt: "add a username to each todo",
        model,
        workdir,
        resumeSessionId: threadId,
      });
      const resumed = await runAgent(next, hostEnv(config.env));
      expect(resumed.code, resumed.stderr).toBe(0);
      expectFilesWritten(workdir, "codex-add-username");
      expect(
        fs.readFileSync(path.join(workdir, "migrations/20260301000000_create_todos.ts"), "utf8"),
      ).toContain('createTable("todos")');
      const followUps = server.modelRequests().slice(requests.length);
      expect(followUps[0]?.conversation).toMatchObject({ step: 0, prompt: "add a username to each todo" });
    });
  }, 180_000);

  it("Claude Code builds the todo app, then adds the username column in a resumed session", async () => {
    await withServer({ scenario: "claude-todo-app", auth: { bearer: runToken } }, async (server) => {
      const workdir = await appCopy();
      const home = tempDir("kiln-model-server-home-");
      const model = "claude-sonnet-4-5";
      const env = hostEnv(claudeRunEnv({ gatewayBaseUrl: server.url, model, runToken, home }));
      const first = claudeCommand({
        binPath: claude.binPath,
        prompt: "build a todo app",
        model,
        workdir,
      });
      const result = await runAgent(first, env);
      expect(result.code, result.stderr).toBe(0);
      expectFilesWritten(workdir, "claude-todo-app");
      const events = jsonLines(result.stdout);
      const final = events.find((event) => event.type === "result");
      expect(final).toMatchObject({ is_error: false, result: expect.stringContaining("todo app is ready") });
      const toolResults = events
        .filter((event) => event.type === "user")
        .flatMap((event) => {
          const content = claudeUserEvent.parse(event).message.content;
          return typeof content === "string" ? [] : content;
        })
        .filter((block) => block.type === "tool_result");
      expect(toolResults).toHaveLength(8);
      expect(toolResults.filter((block) => block.is_error)).toEqual([]);
      const requests = server.modelRequests();
      expect(requests.map((request) => request.conversation?.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(requests[0]?.conversation).toMatchObject({ prompt: "build a todo app", cwd: workdir });
      for (const request of requests) expect(request.path).toBe("/v1/messages?beta=true");

      server.useScenario("claude-add-username");
      const next = claudeCommand({
        binPath: claude.binPath,
        prompt: "add a username to each todo",
        model,
        workdir,
        resumeSessionId: String(final?.session_id),
      });
      const resumed = await runAgent(next, env);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(jsonLines(resumed.stdout).find((event) => event.type === "result")).toMatchObject({
        is_error: false,
      });
      expectFilesWritten(workdir, "claude-add-username");
      const followUps = server.modelRequests().slice(requests.length);
      expect(followUps[0]?.conversation).toMatchObject({ step: 0, prompt: "add a username to each todo" });
    });
  }, 180_000);

  it("Codex applies a scripted apply_patch (offered for a model slug it knows)", async () => {
    const patch = [
      "*** Begin Patch",
      "*** Add File: notes/hello.txt",
      "+patched by the scenario",
      "*** End Patch",
    ];
    await withServer(
      {
        scenario: {
          name: "inline-patch",
          turns: [
            { when: { step: 0 }, reply: { kind: "patch", patch } },
            { reply: { kind: "text", text: "patched" } },
          ],
        },
      },
      async (server) => {
        const workdir = tempDir("kiln-model-server-patch-");
        const home = tempDir("kiln-model-server-home-");
        const model = "gpt-5.5";
        const config = codexRunConfig({ gatewayBaseUrl: server.url, model, runToken, home });
        for (const file of config.files) {
          fs.mkdirSync(path.dirname(file.path), { recursive: true });
          fs.writeFileSync(file.path, file.content);
        }
        const command = codexCommand({
          binPath: codex.binPath,
          prompt: "patch",
          model,
          workdir,
        });
        const result = await runAgent(command, hostEnv(config.env));
        expect(result.code, result.stderr).toBe(0);
        expect(fs.readFileSync(path.join(workdir, "notes/hello.txt"), "utf8")).toBe(
          "patched by the scenario\n",
        );
        const { tools } = requestTools.parse(server.modelRequests()[0]?.body);
        expect(tools.map((tool) => tool.name)).toContain("apply_patch");
      },
    );
  }, 90_000);
});
