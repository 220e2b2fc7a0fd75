import fs from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { listenOnLoopback } from "./http";

/**
 * A scripted model upstream for tests: one local HTTP server speaking the OpenAI Responses API
 * (`POST /v1/responses`, as Codex and the `openai` SDK use it) and the Anthropic Messages API
 * (`POST /v1/messages[?beta=true]`, as Claude Code and `@anthropic-ai/sdk` use it), SSE when the request says
 * `stream: true`, one JSON body otherwise.
 *
 * What it answers comes from a scenario (tests/fixtures/scenarios/<name>.json, or an object): a list of turns,
 * each with an optional `when` and a `reply`. Every request is matched against the turns in order and the first
 * match answers. Matching reads the request alone (how far the agent is into the user's latest prompt, what the
 * last tool result said, which API it is), so one server can serve several runs at once, resumed sessions
 * included. `request` (the server-wide request index) is the one stateful condition, for "fail once, then …".
 *
 * It also speaks OpenAI Chat Completions (`POST /v1/chat/completions`), the protocol of Ollama, vLLM, LM Studio
 * and OpenRouter, which Kiln's gateway translates for the CLIs; `apis` limits what a server speaks (a server with
 * `apis: ["chat"]` answers 404 on `/v1/responses` and `/v1/messages`), and `chat` takes away what some such
 * servers lack (json_schema response formats, usage in streams).
 *
 * The SSE sequences are those the real CLIs accept (Codex 0.169, Claude Code 2.1.329): the full Responses event
 * sequence (`response.created` … `response.output_item.added` … deltas … `response.output_item.done` …
 * `response.completed` with usage) and the full Messages sequence (`message_start` with input usage, `ping`,
 * content blocks with `text_delta` / `input_json_delta`, `message_delta` with output usage, `message_stop`).
 */

// ---------------------------------------------------------------------------------------------------------------
// Scenario format

/** File content as one string, or as lines (joined with "\n", plus a final newline) to keep JSON readable. */
const contentSchema = z.union([
  z.string(),
  z.array(z.string()).transform((lines) => `${lines.join("\n")}\n`),
]);

const usageSchema = z.object({
  /** All input tokens of the request, cached ones included. */
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  /** The part of `input` served from the prompt cache. */
  cached: z.number().int().nonnegative().default(0),
});

const replySchema = z.discriminatedUnion("kind", [
  /** A final assistant message: the agent's turn ends. */
  z.object({ kind: z.literal("text"), text: z.string() }),
  /** Codex: `exec_command {cmd}`; Claude Code: `Bash {command, description}`. */
  z.object({
    kind: z.literal("shell"),
    command: z.string().min(1),
    say: z.string().optional(),
  }),
  /**
   * Codex: `exec_command` with `mkdir -p` and a quoted heredoc; Claude Code: `Write {file_path, content}` with the
   * path made absolute against the working directory the CLI reports. Claude Code refuses to overwrite a file it
   * has not read in the session: put a `read` turn before rewriting an existing file.
   */
  z.object({
    kind: z.literal("write"),
    path: z.string().min(1),
    content: contentSchema,
    say: z.string().optional(),
  }),
  /** Codex: `exec_command cat`; Claude Code: `Read {file_path}` (absolute). */
  z.object({ kind: z.literal("read"), path: z.string().min(1), say: z.string().optional() }),
  /** Codex only: the freeform `apply_patch` custom tool (offered for model slugs Codex knows, e.g. gpt-5.5). */
  z.object({ kind: z.literal("patch"), patch: contentSchema, say: z.string().optional() }),
  /** Any tool by name: OpenAI `function_call` (arguments = JSON of input) / Anthropic `tool_use`. */
  z.object({
    kind: z.literal("tool"),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    say: z.string().optional(),
  }),
  /**
   * Structured output. OpenAI: an `output_text` holding `raw` or JSON of `value`. Anthropic: a `tool_use` of the
   * tool the request forces (`tool_choice: {type: "tool", name}`) with `value` as its input; `raw` (not an
   * object) becomes a text block instead, i.e. no tool call.
   */
  z.object({ kind: z.literal("json"), value: z.unknown().optional(), raw: z.string().optional() }),
  /** OpenAI: a `refusal` content part; Anthropic: the text with `stop_reason: "refusal"`. */
  z.object({ kind: z.literal("refusal"), text: z.string() }),
  /** An HTTP error in the API's own error shape. */
  z.object({
    kind: z.literal("error"),
    status: z.number().int().min(400).max(599),
    message: z.string().optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
  }),
  /** Never answers (the connection is cut when the server closes). */
  z.object({ kind: z.literal("hang") }),
  /** Destroys the connection without an answer. */
  z.object({ kind: z.literal("drop") }),
]);

const whenSchema = z.object({
  api: z.enum(["openai", "anthropic", "chat"]).optional(),
  /** Tool calls the model has already made since the user's latest prompt (0 = the prompt's first request). */
  step: z.number().int().nonnegative().optional(),
  /** At least this many tool calls since the latest prompt. */
  minStep: z.number().int().nonnegative().optional(),
  /** Server-wide index of the model request, from 0. */
  request: z.number().int().nonnegative().optional(),
  /** The user's latest prompt contains this text. */
  promptContains: z.string().optional(),
  /** The most recent tool result in the conversation contains this text. */
  lastToolResultContains: z.string().optional(),
  /** The request asks for structured output (OpenAI json_schema format, Anthropic forced tool). */
  structured: z.boolean().optional(),
});

const turnSchema = z.object({
  when: whenSchema.default({}),
  reply: replySchema,
  /** Token usage reported for this answer (default: the scenario's). */
  usage: usageSchema.optional(),
  /** Wait before answering. */
  delayMs: z.number().int().nonnegative().optional(),
  /** Wait between SSE events (to observe streaming). */
  eventDelayMs: z.number().int().nonnegative().optional(),
  /** Chat Completions only: reasoning streamed before the reply (`reasoning_content`, as vLLM sends it). */
  reasoning: z.string().optional(),
});

export const scenarioSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  usage: usageSchema.default({ input: 1000, output: 100, cached: 0 }),
  turns: z.array(turnSchema).min(1),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioTurn = Scenario["turns"][number];
export type ScenarioReply = ScenarioTurn["reply"];
export type ScenarioUsage = Scenario["usage"];

export const scenariosDir = fileURLToPath(new URL("../fixtures/scenarios/", import.meta.url));

export function parseScenario(input: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid scenario: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** `tests/fixtures/scenarios/<name>.json`, validated. */
export function loadScenario(name: string): Scenario {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`not a scenario name: ${JSON.stringify(name)}`);
  const file = path.join(scenariosDir, `${name}.json`);
  const scenario = parseScenario(JSON.parse(fs.readFileSync(file, "utf8")));
  if (scenario.name !== name) throw new Error(`${file}: "name" is ${scenario.name}, expected ${name}`);
  return scenario;
}

export function scenarioNames(): string[] {
  return fs
    .readdirSync(scenariosDir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length))
    .sort();
}

/** The files a scenario writes (relative path → content), in order; later writes of a path win. */
export function scenarioFiles(scenario: Scenario): Map<string, string> {
  const files = new Map<string, string>();
  for (const { reply } of scenario.turns) if (reply.kind === "write") files.set(reply.path, reply.content);
  return files;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a request

export type ModelApi = "openai" | "anthropic" | "chat";

/** What the server understood of a request, for matching and for assertions. */
export type Conversation = {
  api: ModelApi;
  model: string;
  stream: boolean;
  step: number;
  /** The user's latest prompt (Claude Code's system reminders and Codex's environment context left out). */
  prompt: string;
  lastToolResult: string | undefined;
  /** The agent's working directory, when the request states it. */
  cwd: string | undefined;
  /** The schema/tool name when structured output is asked for. */
  structuredName: string | undefined;
  /**
   * Whose tools the request offers (Chat Completions requests come from either CLI through the gateway): Codex's
   * (`exec_command`) or Claude Code's (`Bash`, `Write`). The vendor APIs' own.
   */
  toolset: "codex" | "claude";
  /** Chat Completions: the request forces this function (the planner's tool-call fallback). */
  forcedTool?: string;
  /**
   * Chat Completions from Codex: it offers `exec_command` for the model slugs it knows and `shell` (an argv array)
   * for others; a command goes to whichever is offered.
   */
  shellTool?: "exec_command" | "shell";
};

export type ModelRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  /** Server-wide index, from 0. */
  index: number;
  conversation: Conversation | undefined;
  /** Index of the scenario turn that answered; undefined when none matched (answered with HTTP 500). */
  turn: number | undefined;
};

const looseRecord = z.record(z.string(), z.unknown());
const textPart = z.object({ type: z.string(), text: z.string().optional() });

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  const parts = z.array(z.unknown()).safeParse(content);
  if (!parts.success) return "";
  return parts.data
    .map((part) => {
      const parsed = textPart.safeParse(part);
      if (parsed.success) return parsed.data.text ?? "";
      return typeof part === "string" ? part : "";
    })
    .join("\n");
}

const cwdPatterns = [
  /Primary working directory: (\S[^\n]*)/,
  /Working directory: (\S[^\n]*)/,
  /<cwd>([^<]+)<\/cwd>/,
];

/**
 * The latest environment block wins: a resumed session still carries its earlier runs' (other sandboxes). Within
 * one text too: a gateway translating for a Chat Completions server merges the session's system messages, old and
 * new, into one leading system message, in order.
 */
function findCwd(texts: string[]): string | undefined {
  for (const text of [...texts].reverse()) {
    for (const pattern of cwdPatterns) {
      const match = [...text.matchAll(new RegExp(pattern.source, "g"))].at(-1);
      // A resumed Claude Code session in another directory says "NEW (was OLD)".
      if (match?.[1]) return match[1].replace(/ \(was [^)]*\)$/, "").trim();
    }
  }
  return undefined;
}

const responsesItem = z.object({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.unknown().optional(),
  output: z.unknown().optional(),
});
const toolCallTypes = new Set(["function_call", "custom_tool_call", "local_shell_call"]);
const toolOutputTypes = new Set([
  "function_call_output",
  "custom_tool_call_output",
  "local_shell_call_output",
]);

/**
 * Codex sends context as user messages too (`<environment_context>`, `# AGENTS.md instructions for …`); only
 * the rest are prompts. A real prompt that starts with a `<tag>` would be taken for context: fine for a fake.
 */
function isCodexContext(text: string): boolean {
  return /^\s*(<[a-z_]+>|# AGENTS\.md instructions)/.test(text);
}

function readResponsesRequest(body: Record<string, unknown>): Conversation {
  const rawInput = body.input;
  const items =
    typeof rawInput === "string"
      ? [{ type: "message", role: "user", content: rawInput }]
      : z.array(responsesItem).catch([]).parse(rawInput);
  const isPrompt = (item: z.output<typeof responsesItem>) =>
    item.role === "user" &&
    (item.type === undefined || item.type === "message") &&
    !isCodexContext(textOf(item.content));
  const lastPrompt = items.findLastIndex(isPrompt);
  const step = items.slice(lastPrompt + 1).filter((item) => toolCallTypes.has(item.type ?? "")).length;
  const promptItem = items[lastPrompt];
  const lastOutput = items.findLast((item) => toolOutputTypes.has(item.type ?? ""));
  const format = z
    .object({ format: z.object({ type: z.string(), name: z.string().optional() }) })
    .safeParse(body.text);
  const texts = items.map((item) => textOf(item.content));
  if (typeof body.instructions === "string") texts.unshift(body.instructions);
  return {
    api: "openai",
    model: typeof body.model === "string" ? body.model : "unknown",
    stream: body.stream === true,
    step,
    prompt: promptItem ? textOf(promptItem.content) : "",
    lastToolResult: lastOutput
      ? typeof lastOutput.output === "string"
        ? lastOutput.output
        : textOf(lastOutput.output)
      : undefined,
    cwd: findCwd(texts),
    structuredName:
      format.success && format.data.format.type === "json_schema"
        ? (format.data.format.name ?? "output")
        : undefined,
    toolset: "codex",
  };
}

const messageSchema = z.object({ role: z.string(), content: z.unknown() });
const blockSchema = z.object({
  type: z.string(),
  text: z.string().optional(),
  content: z.unknown().optional(),
});

function blocksOf(content: unknown): Array<z.output<typeof blockSchema>> {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return z.array(blockSchema).catch([]).parse(content);
}

function readMessagesRequest(body: Record<string, unknown>): Conversation {
  // Some Claude Code versions put a `role: "system"` message inside `messages`; it is neither prompt nor reply.
  const allMessages = z.array(messageSchema).catch([]).parse(body.messages);
  const messages = allMessages.filter((message) => message.role === "user" || message.role === "assistant");
  // Claude Code sends its context as `<system-reminder>` text blocks, in the prompt's message and after tool
  // results: a prompt is a user message with other text and no tool result.
  const isPromptText = (block: z.output<typeof blockSchema>) =>
    block.type === "text" && !block.text?.trimStart().startsWith("<system-reminder>");
  const isPrompt = (message: z.output<typeof messageSchema>) =>
    message.role === "user" &&
    blocksOf(message.content).some(isPromptText) &&
    !blocksOf(message.content).some((block) => block.type === "tool_result");
  const lastPrompt = messages.findLastIndex(isPrompt);
  const step = messages
    .slice(lastPrompt + 1)
    .filter((message) => message.role === "assistant")
    .flatMap((message) => blocksOf(message.content))
    .filter((block) => block.type === "tool_use").length;
  const promptMessage = messages[lastPrompt];
  const prompt = promptMessage
    ? blocksOf(promptMessage.content)
        .filter(isPromptText)
        .map((block) => block.text ?? "")
        .join("\n")
    : "";
  const lastResult = messages
    .flatMap((message) => blocksOf(message.content))
    .findLast((block) => block.type === "tool_result");
  const choice = z.object({ type: z.literal("tool"), name: z.string() }).safeParse(body.tool_choice);
  // The environment block (the working directory) may come in that `system` message: newer models get it there.
  const texts = [
    textOf(body.system),
    ...allMessages.flatMap((message) => blocksOf(message.content).map((block) => block.text ?? "")),
  ];
  return {
    api: "anthropic",
    model: typeof body.model === "string" ? body.model : "unknown",
    stream: body.stream === true,
    step,
    prompt,
    lastToolResult: lastResult ? textOf(lastResult.content) : undefined,
    cwd: findCwd(texts),
    structuredName: choice.success ? choice.data.name : undefined,
    toolset: "claude",
  };
}

const chatMessageSchema = z.object({
  role: z.string(),
  content: z.unknown().optional(),
  tool_calls: z.array(z.unknown()).nullish(),
});

/** Context the CLIs send as user text (Claude Code's reminders, Codex's environment blocks), not the prompt. */
function promptPart(text: string): string {
  const withoutReminders = text.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, "").trim();
  return isCodexContext(withoutReminders) ? "" : withoutReminders;
}

function readChatRequest(body: Record<string, unknown>): Conversation {
  const messages = z.array(chatMessageSchema).catch([]).parse(body.messages);
  const lastPrompt = messages.findLastIndex(
    (message) => message.role === "user" && promptPart(textOf(message.content)) !== "",
  );
  const step = messages
    .slice(lastPrompt + 1)
    .filter((message) => message.role === "assistant")
    .reduce((sum, message) => sum + (message.tool_calls?.length ?? 0), 0);
  const promptMessage = messages[lastPrompt];
  const lastTool = messages.findLast((message) => message.role === "tool");
  const tools = z
    .array(z.object({ function: z.object({ name: z.string() }) }))
    .catch([])
    .parse(body.tools)
    .map((tool) => tool.function.name);
  const format = z
    .object({ type: z.string(), json_schema: z.object({ name: z.string().optional() }).optional() })
    .safeParse(body.response_format);
  const forced = z.object({ function: z.object({ name: z.string() }) }).safeParse(body.tool_choice);
  const structuredName = forced.success
    ? forced.data.function.name
    : format.success && format.data.type !== "text"
      ? (format.data.json_schema?.name ?? "output")
      : undefined;
  return {
    api: "chat",
    model: typeof body.model === "string" ? body.model : "unknown",
    stream: body.stream === true,
    step,
    prompt: promptMessage ? promptPart(textOf(promptMessage.content)) : "",
    lastToolResult: lastTool ? textOf(lastTool.content) : undefined,
    cwd: findCwd(messages.map((message) => textOf(message.content))),
    structuredName,
    // Side requests without tools (titles, summaries) are told apart by who the system text says is asking.
    toolset:
      tools.includes("Bash") || tools.includes("Write")
        ? "claude"
        : tools.length === 0 && /Claude/.test(textOf(messages[0]?.content))
          ? "claude"
          : "codex",
    forcedTool: forced.success ? forced.data.function.name : undefined,
    shellTool: !tools.includes("exec_command") && tools.includes("shell") ? "shell" : "exec_command",
  };
}

function matches(turn: ScenarioTurn, conversation: Conversation, index: number): boolean {
  const { when } = turn;
  if (when.api !== undefined && when.api !== conversation.api) return false;
  if (when.step !== undefined && when.step !== conversation.step) return false;
  if (when.minStep !== undefined && conversation.step < when.minStep) return false;
  if (when.request !== undefined && when.request !== index) return false;
  if (when.promptContains !== undefined && !conversation.prompt.includes(when.promptContains)) return false;
  if (
    when.lastToolResultContains !== undefined &&
    !conversation.lastToolResult?.includes(when.lastToolResultContains)
  ) {
    return false;
  }
  if (when.structured !== undefined && when.structured !== (conversation.structuredName !== undefined)) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// What to answer, independent of the wire format

type OutItem =
  | { type: "text"; text: string }
  | { type: "refusal"; text: string }
  | { type: "tool"; name: string; input: Record<string, unknown> }
  | { type: "custom"; name: string; input: string };

class ScenarioError extends Error {}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `mkdir -p` + `cat > file <<'DELIM'`, with a delimiter that no line of the content equals. */
function heredocWrite(file: string, content: string): string {
  const lines = new Set(content.split("\n"));
  let delimiter = "KILN_EOF";
  while (lines.has(delimiter)) delimiter += "_";
  const dir = path.posix.dirname(file);
  const mkdir = dir === "." ? "" : `mkdir -p ${shellQuote(dir)} && `;
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return `${mkdir}cat > ${shellQuote(file)} <<'${delimiter}'\n${body}${delimiter}`;
}

function absolute(file: string, conversation: Conversation): string {
  if (path.isAbsolute(file)) return file;
  if (!conversation.cwd) {
    throw new ScenarioError(`cannot make ${file} absolute: the request names no working directory`);
  }
  return path.posix.join(conversation.cwd, file);
}

function outItems(reply: ScenarioReply, conversation: Conversation): OutItem[] {
  const openai = conversation.toolset === "codex";
  const say = (text: string | undefined): OutItem[] => (text ? [{ type: "text", text }] : []);
  const exec = (cmd: string): OutItem =>
    conversation.shellTool === "shell"
      ? { type: "tool", name: "shell", input: { command: ["bash", "-lc", cmd] } }
      : { type: "tool", name: "exec_command", input: { cmd } };
  switch (reply.kind) {
    case "text":
      return [{ type: "text", text: reply.text }];
    case "refusal":
      return [{ type: "refusal", text: reply.text }];
    case "shell":
      return [
        ...say(reply.say),
        openai
          ? exec(reply.command)
          : { type: "tool", name: "Bash", input: { command: reply.command, description: "Run a command" } },
      ];
    case "write":
      return [
        ...say(reply.say),
        openai
          ? exec(heredocWrite(reply.path, reply.content))
          : {
              type: "tool",
              name: "Write",
              input: { file_path: absolute(reply.path, conversation), content: reply.content },
            },
      ];
    case "read":
      return [
        ...say(reply.say),
        openai
          ? exec(`cat ${shellQuote(reply.path)}`)
          : { type: "tool", name: "Read", input: { file_path: absolute(reply.path, conversation) } },
      ];
    case "patch":
      if (!openai) throw new ScenarioError("a patch reply is OpenAI-only (Codex's apply_patch)");
      return [...say(reply.say), { type: "custom", name: "apply_patch", input: reply.patch }];
    case "tool":
      return [...say(reply.say), { type: "tool", name: reply.name, input: reply.input }];
    case "json": {
      const raw = reply.raw ?? JSON.stringify(reply.value ?? null);
      if (conversation.api === "chat") {
        const input = looseRecord.safeParse(reply.value);
        if (conversation.forcedTool && reply.raw === undefined && input.success) {
          return [{ type: "tool", name: conversation.forcedTool, input: input.data }];
        }
        return [{ type: "text", text: raw }];
      }
      if (conversation.api === "openai") return [{ type: "text", text: raw }];
      const input = looseRecord.safeParse(reply.value);
      if (reply.raw !== undefined || !input.success) return [{ type: "text", text: raw }];
      return [{ type: "tool", name: conversation.structuredName ?? "output", input: input.data }];
    }
    case "error":
    case "hang":
    case "drop":
      throw new ScenarioError(`${reply.kind} has no output items`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wire formats

type WireEvent = { event: string; data: Record<string, unknown> };
type Answer = { json: unknown } | { events: WireEvent[] };

/** Splits streamed text into a few deltas, as a real upstream does. */
function chunks(text: string, size = 64): string[] {
  if (text.length === 0) return [""];
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out;
}

type Ids = { response: string; item: (n: number) => string; call: (n: number) => string };

function idsFor(index: number): Ids {
  return {
    response: `resp_kiln_${index}`,
    item: (n) => `item_kiln_${index}_${n}`,
    call: (n) => `call_kiln_${index}_${n}`,
  };
}

function openaiUsage(usage: ScenarioUsage) {
  return {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
}

function openaiItem(item: OutItem, n: number, ids: Ids): Record<string, unknown> {
  switch (item.type) {
    case "text":
      return {
        type: "message",
        id: ids.item(n),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: item.text, annotations: [], logprobs: [] }],
      };
    case "refusal":
      return {
        type: "message",
        id: ids.item(n),
        status: "completed",
        role: "assistant",
        content: [{ type: "refusal", refusal: item.text }],
      };
    case "tool":
      return {
        type: "function_call",
        id: ids.item(n),
        call_id: ids.call(n),
        name: item.name,
        arguments: JSON.stringify(item.input),
        status: "completed",
      };
    case "custom":
      return {
        type: "custom_tool_call",
        id: ids.item(n),
        call_id: ids.call(n),
        name: item.name,
        input: item.input,
        status: "completed",
      };
  }
}

function openaiResponse(
  body: Record<string, unknown>,
  conversation: Conversation,
  ids: Ids,
  status: "in_progress" | "completed",
  output: unknown[],
  usage: ScenarioUsage | null,
) {
  return {
    id: ids.response,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === "string" ? body.instructions : null,
    model: conversation.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    tool_choice: body.tool_choice ?? "auto",
    tools: [],
    text: body.text ?? { format: { type: "text" } },
    store: body.store === true,
    metadata: {},
    usage: usage ? openaiUsage(usage) : null,
  };
}

function openaiEventsForItem(item: OutItem, n: number, ids: Ids): WireEvent[] {
  const done = openaiItem(item, n, ids);
  const itemId = ids.item(n);
  const base = { output_index: n, item_id: itemId };
  const added = (partial: Record<string, unknown>): WireEvent => ({
    event: "response.output_item.added",
    data: { output_index: n, item: { ...done, status: "in_progress", ...partial } },
  });
  const finished: WireEvent = { event: "response.output_item.done", data: { output_index: n, item: done } };
  switch (item.type) {
    case "text": {
      const part = { type: "output_text", text: "", annotations: [], logprobs: [] };
      return [
        added({ content: [] }),
        { event: "response.content_part.added", data: { ...base, content_index: 0, part } },
        ...chunks(item.text).map((delta) => ({
          event: "response.output_text.delta",
          data: { ...base, content_index: 0, delta, logprobs: [] },
        })),
        {
          event: "response.output_text.done",
          data: { ...base, content_index: 0, text: item.text, logprobs: [] },
        },
        {
          event: "response.content_part.done",
          data: { ...base, content_index: 0, part: { ...part, text: item.text } },
        },
        finished,
      ];
    }
    case "refusal":
      return [
        added({ content: [] }),
        {
          event: "response.content_part.added",
          data: { ...base, content_index: 0, part: { type: "refusal", refusal: "" } },
        },
        ...chunks(item.text).map((delta) => ({
          event: "response.refusal.delta",
          data: { ...base, content_index: 0, delta },
        })),
        { event: "response.refusal.done", data: { ...base, content_index: 0, refusal: item.text } },
        {
          event: "response.content_part.done",
          data: { ...base, content_index: 0, part: { type: "refusal", refusal: item.text } },
        },
        finished,
      ];
    case "tool": {
      const args = JSON.stringify(item.input);
      return [
        added({ arguments: "" }),
        ...chunks(args).map((delta) => ({
          event: "response.function_call_arguments.delta",
          data: { ...base, delta },
        })),
        {
          event: "response.function_call_arguments.done",
          data: { ...base, name: item.name, arguments: args },
        },
        finished,
      ];
    }
    case "custom":
      return [
        added({ input: "" }),
        ...chunks(item.input).map((delta) => ({
          event: "response.custom_tool_call_input.delta",
          data: { ...base, delta },
        })),
        { event: "response.custom_tool_call_input.done", data: { ...base, input: item.input } },
        finished,
      ];
  }
}

function openaiAnswer(
  body: Record<string, unknown>,
  conversation: Conversation,
  items: OutItem[],
  usage: ScenarioUsage,
  index: number,
): Answer {
  const ids = idsFor(index);
  const output = items.map((item, n) => openaiItem(item, n, ids));
  const completed = openaiResponse(body, conversation, ids, "completed", output, usage);
  if (!conversation.stream) return { json: completed };
  const started = openaiResponse(body, conversation, ids, "in_progress", [], null);
  const events: WireEvent[] = [
    { event: "response.created", data: { response: started } },
    { event: "response.in_progress", data: { response: started } },
    ...items.flatMap((item, n) => openaiEventsForItem(item, n, ids)),
    { event: "response.completed", data: { response: completed } },
  ];
  return {
    events: events.map((entry, sequence) => ({
      event: entry.event,
      data: { type: entry.event, sequence_number: sequence, ...entry.data },
    })),
  };
}

function anthropicBlock(item: OutItem, n: number, index: number): Record<string, unknown> {
  switch (item.type) {
    case "text":
    case "refusal":
      return { type: "text", text: item.text };
    case "tool":
      return { type: "tool_use", id: `toolu_kiln_${index}_${n}`, name: item.name, input: item.input };
    case "custom":
      throw new ScenarioError("custom tool calls are OpenAI-only");
  }
}

function anthropicStopReason(items: OutItem[]): string {
  if (items.some((item) => item.type === "refusal")) return "refusal";
  if (items.some((item) => item.type === "tool")) return "tool_use";
  return "end_turn";
}

function anthropicAnswer(
  conversation: Conversation,
  items: OutItem[],
  usage: ScenarioUsage,
  index: number,
): Answer {
  const content = items.map((item, n) => anthropicBlock(item, n, index));
  const stopReason = anthropicStopReason(items);
  // Anthropic counts cache reads apart from input_tokens; the scenario's `input` includes them.
  const inputUsage = {
    input_tokens: usage.input - Math.min(usage.cached, usage.input),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: Math.min(usage.cached, usage.input),
  };
  const message = {
    id: `msg_kiln_${index}`,
    type: "message",
    role: "assistant",
    model: conversation.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { ...inputUsage, output_tokens: usage.output },
  };
  if (!conversation.stream) return { json: message };
  const events: WireEvent[] = [
    {
      event: "message_start",
      data: {
        message: { ...message, content: [], stop_reason: null, usage: { ...inputUsage, output_tokens: 1 } },
      },
    },
    { event: "ping", data: {} },
  ];
  content.forEach((block, n) => {
    if (block.type === "tool_use") {
      events.push({
        event: "content_block_start",
        data: { index: n, content_block: { ...block, input: {} } },
      });
      for (const partial of chunks(JSON.stringify(block.input))) {
        events.push({
          event: "content_block_delta",
          data: { index: n, delta: { type: "input_json_delta", partial_json: partial } },
        });
      }
    } else {
      const text = typeof block.text === "string" ? block.text : "";
      events.push({
        event: "content_block_start",
        data: { index: n, content_block: { type: "text", text: "" } },
      });
      for (const delta of chunks(text)) {
        events.push({
          event: "content_block_delta",
          data: { index: n, delta: { type: "text_delta", text: delta } },
        });
      }
    }
    events.push({ event: "content_block_stop", data: { index: n } });
  });
  events.push(
    {
      event: "message_delta",
      data: {
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: usage.output },
      },
    },
    { event: "message_stop", data: {} },
  );
  return {
    events: events.map((entry) => ({ event: entry.event, data: { type: entry.event, ...entry.data } })),
  };
}

type ChatOptions = { usage: boolean };

function chatAnswer(
  conversation: Conversation,
  items: OutItem[],
  usage: ScenarioUsage,
  index: number,
  reasoning: string | undefined,
  options: ChatOptions,
): Answer {
  const text = items.filter((item) => item.type === "text").map((item) => item.text);
  const refusal = items.find((item) => item.type === "refusal")?.text;
  const calls = items.flatMap((item, n) =>
    item.type === "tool" || item.type === "custom"
      ? [
          {
            id: `call_kiln_${index}_${n}`,
            type: "function",
            function: {
              name: item.name,
              arguments:
                item.type === "tool" ? JSON.stringify(item.input) : JSON.stringify({ input: item.input }),
            },
          },
        ]
      : [],
  );
  const finish = calls.length > 0 ? "tool_calls" : "stop";
  const usageBody = {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cached },
  };
  const base = {
    id: `chatcmpl-kiln-${index}`,
    created: Math.floor(Date.now() / 1000),
    model: conversation.model,
  };
  if (!conversation.stream) {
    return {
      json: {
        ...base,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: text.length > 0 ? text.join("\n\n") : null,
              ...(refusal ? { refusal } : {}),
              ...(reasoning ? { reasoning_content: reasoning } : {}),
              ...(calls.length > 0 ? { tool_calls: calls } : {}),
            },
            finish_reason: finish,
          },
        ],
        ...(options.usage ? { usage: usageBody } : {}),
      },
    };
  }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    event: "",
    data: {
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    },
  });
  const events: WireEvent[] = [chunk({ role: "assistant", content: "" })];
  if (reasoning) for (const piece of chunks(reasoning)) events.push(chunk({ reasoning_content: piece }));
  for (const piece of chunks(text.join("\n\n"))) if (piece) events.push(chunk({ content: piece }));
  if (refusal) events.push(chunk({ refusal }));
  calls.forEach((call, n) => {
    events.push(
      chunk({
        tool_calls: [
          { index: n, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
        ],
      }),
    );
    for (const piece of chunks(call.function.arguments, 40)) {
      events.push(chunk({ tool_calls: [{ index: n, function: { arguments: piece } }] }));
    }
  });
  events.push(chunk({}, finish));
  if (options.usage) {
    events.push({
      event: "",
      data: { ...base, object: "chat.completion.chunk", choices: [], usage: usageBody },
    });
  }
  return { events };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors in each API's shape

const openaiErrorTypes: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request." },
  401: { type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  403: { type: "invalid_request_error", code: "unsupported_country_region_territory", message: "Forbidden." },
  404: { type: "invalid_request_error", code: "model_not_found", message: "The model does not exist." },
  429: { type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached for requests." },
  500: {
    type: "server_error",
    code: null,
    message: "The server had an error while processing your request. Sorry about that!",
  },
  503: { type: "server_error", code: null, message: "The engine is currently overloaded." },
};

const anthropicErrorTypes: Record<number, { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "Invalid request." },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  403: {
    type: "permission_error",
    message: "Your API key does not have permission to use the specified resource.",
  },
  404: { type: "not_found_error", message: "Not found." },
  413: { type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." },
  429: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit." },
  500: { type: "api_error", message: "Internal server error" },
  529: { type: "overloaded_error", message: "Overloaded" },
};

type ErrorReply = { status: number; body: unknown; headers: Record<string, string> };

function errorReply(api: ModelApi, status: number, message?: string, retryAfterSeconds?: number): ErrorReply {
  const headers: Record<string, string> = {};
  if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
  if (api === "openai" || api === "chat") {
    const known = openaiErrorTypes[status] ?? openaiErrorTypes[status >= 500 ? 500 : 400];
    headers["x-request-id"] = "req_kiln_fake";
    return {
      status,
      headers,
      body: {
        error: {
          message: message ?? known?.message ?? "error",
          type: known?.type ?? "server_error",
          param: null,
          code: known?.code ?? null,
        },
      },
    };
  }
  const known = anthropicErrorTypes[status] ?? anthropicErrorTypes[status >= 500 ? 500 : 400];
  headers["request-id"] = "req_kiln_fake";
  return {
    status,
    headers,
    body: {
      type: "error",
      error: { type: known?.type ?? "api_error", message: message ?? known?.message ?? "error" },
      request_id: "req_kiln_fake",
    },
  };
}

/** OpenAI echoes a wrong key masked like this; Anthropic does not echo it. */
function masked(key: string): string {
  return key.length <= 8 ? "****" : `${key.slice(0, 3)}${"*".repeat(key.length - 7)}${key.slice(-4)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The server

export type ModelServerAuth = {
  /** Accepted as `Authorization: Bearer <bearer>` (both APIs). */
  bearer?: string;
  /** Accepted as `x-api-key: <apiKey>` (Anthropic), or as `Authorization: Bearer <apiKey>` (OpenAI). */
  apiKey?: string;
};

export type ModelServerOptions = {
  /** A scenario, or the name of one in tests/fixtures/scenarios. */
  scenario: Scenario | ScenarioInput | string;
  /** Without it every request is accepted. */
  auth?: ModelServerAuth;
  /** A fixed loopback port (a server other processes are configured with); default: any free one. */
  port?: number;
  /** The APIs it speaks (default all three); the others answer 404, as on a server that has not got them. */
  apis?: ModelApi[];
  /** What a Chat Completions server lacks: json_schema response formats (answers 400), usage in its answers. */
  chat?: { jsonSchema?: boolean; usage?: boolean };
  /** The ids `GET /v1/models` lists on a Chat Completions-only server (default: `["kiln-coder"]`). */
  models?: string[];
};

export type ModelServer = {
  /** `http://127.0.0.1:<port>`: the Anthropic base URL (SDK `baseURL`, `ANTHROPIC_BASE_URL`). */
  url: string;
  /** `${url}/v1`: the OpenAI base URL (SDK `baseURL`, Codex `base_url`). */
  openaiBaseUrl: string;
  /** Every request, in arrival order. */
  requests: ModelRequest[];
  /** Only the model requests (`/v1/responses`, `/v1/messages`, `/v1/chat/completions`). */
  modelRequests(): ModelRequest[];
  scenario(): Scenario;
  /** Answers later requests from another scenario (e.g. a follow-up prompt); the request index carries on. */
  useScenario(scenario: Scenario | ScenarioInput | string): void;
  close(): Promise<void>;
};

function resolveScenario(scenario: Scenario | ScenarioInput | string): Scenario {
  return typeof scenario === "string" ? loadScenario(scenario) : parseScenario(scenario);
}

function apiOf(pathname: string): ModelApi | undefined {
  if (pathname === "/v1/responses") return "openai";
  if (pathname === "/v1/messages") return "anthropic";
  if (pathname === "/v1/chat/completions") return "chat";
  return undefined;
}

function authorized(req: IncomingMessage, api: ModelApi, auth: ModelServerAuth | undefined): boolean {
  if (!auth || (auth.bearer === undefined && auth.apiKey === undefined)) return true;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const apiKey = req.headers["x-api-key"];
  if (bearer !== undefined && bearer === auth.bearer) return true;
  if (api !== "anthropic") return bearer !== undefined && bearer === auth.apiKey;
  return typeof apiKey === "string" && apiKey === auth.apiKey;
}

function presentedKey(req: IncomingMessage): string {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const apiKey = req.headers["x-api-key"];
  return bearer ?? (typeof apiKey === "string" ? apiKey : "");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(parts).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function sendEvents(res: ServerResponse, events: WireEvent[], delayMs: number): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  // Chat Completions streams are bare `data:` lines ending with `data: [DONE]`.
  const chat = events[0]?.event === "";
  for (const entry of events) {
    if (res.destroyed) return;
    const line = `data: ${JSON.stringify(entry.data)}\n\n`;
    res.write(chat ? line : `event: ${entry.event}\n${line}`);
    if (delayMs > 0) await sleep(delayMs);
  }
  if (chat && !res.destroyed) res.write("data: [DONE]\n\n");
  res.end();
}

function modelsList(req: IncomingMessage, res: ServerResponse, options: ModelServerOptions): void {
  if (options.apis && !options.apis.includes("openai") && !options.apis.includes("anthropic")) {
    sendJson(res, 200, {
      object: "list",
      data: (options.models ?? ["kiln-coder"]).map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "kiln",
      })),
    });
    return;
  }
  if (typeof req.headers["anthropic-version"] === "string") {
    sendJson(res, 200, {
      data: [
        {
          type: "model",
          id: "claude-sonnet-4-5",
          display_name: "Claude Sonnet 4.5",
          created_at: "2025-09-29T00:00:00Z",
        },
      ],
      has_more: false,
      first_id: "claude-sonnet-4-5",
      last_id: "claude-sonnet-4-5",
    });
    return;
  }
  sendJson(res, 200, {
    object: "list",
    data: [{ id: "gpt-5.5", object: "model", created: 1715367049, owned_by: "system" }],
  });
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  let scenario = resolveScenario(options.scenario);
  const requests: ModelRequest[] = [];
  let modelRequestCount = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", "http://model.local");
    const known = apiOf(url.pathname);
    // An API this server does not speak is a path it does not have.
    const api = known && (!options.apis || options.apis.includes(known)) ? known : undefined;
    const body = parseJson(rawBody);
    const record: ModelRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      rawBody,
      body,
      index: api ? modelRequestCount++ : -1,
      conversation: undefined,
      turn: undefined,
    };
    requests.push(record);

    if (!api) {
      if (req.method === "GET" && url.pathname === "/v1/models") return modelsList(req, res, options);
      const error = errorReply(
        req.headers["anthropic-version"] ? "anthropic" : "openai",
        404,
        `no route ${url.pathname}`,
      );
      return sendJson(res, error.status, error.body, error.headers);
    }
    if (!authorized(req, api, options.auth)) {
      const key = presentedKey(req);
      const message =
        api !== "anthropic"
          ? key
            ? `Incorrect API key provided: ${masked(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`
            : "You didn't provide an API key."
          : "invalid x-api-key";
      const error = errorReply(api, 401, message);
      return sendJson(res, error.status, error.body, error.headers);
    }
    if (req.method !== "POST") {
      const error = errorReply(api, 405, `${req.method ?? "GET"} is not allowed here`);
      return sendJson(res, error.status, error.body, error.headers);
    }
    const parsedBody = looseRecord.safeParse(body);
    if (!parsedBody.success) {
      const error = errorReply(api, 400, "the request body is not a JSON object");
      return sendJson(res, error.status, error.body, error.headers);
    }
    const conversation =
      api === "openai"
        ? readResponsesRequest(parsedBody.data)
        : api === "anthropic"
          ? readMessagesRequest(parsedBody.data)
          : readChatRequest(parsedBody.data);
    record.conversation = conversation;
    const format = z.object({ type: z.string() }).safeParse(parsedBody.data.response_format);
    if (
      api === "chat" &&
      options.chat?.jsonSchema === false &&
      format.success &&
      format.data.type === "json_schema"
    ) {
      // What vLLM without guided decoding or an older Ollama says.
      const error = errorReply(api, 400, "response_format type json_schema is not supported by this server");
      return sendJson(res, error.status, error.body, error.headers);
    }

    const turnIndex = scenario.turns.findIndex((turn) => matches(turn, conversation, record.index));
    const turn = scenario.turns[turnIndex];
    if (!turn) {
      const error = errorReply(
        api,
        500,
        `scenario ${scenario.name}: no turn matches request #${record.index} (step ${conversation.step})`,
      );
      return sendJson(res, error.status, error.body, error.headers);
    }
    record.turn = turnIndex;
    if (turn.delayMs) await sleep(turn.delayMs);
    const { reply } = turn;
    if (reply.kind === "hang") return;
    if (reply.kind === "drop") {
      req.socket.destroy();
      return;
    }
    if (reply.kind === "error") {
      const error = errorReply(api, reply.status, reply.message, reply.retryAfterSeconds);
      return sendJson(res, error.status, error.body, error.headers);
    }
    let answer: Answer;
    try {
      const items = outItems(reply, conversation);
      const usage = turn.usage ?? scenario.usage;
      answer =
        api === "openai"
          ? openaiAnswer(parsedBody.data, conversation, items, usage, record.index)
          : api === "anthropic"
            ? anthropicAnswer(conversation, items, usage, record.index)
            : chatAnswer(conversation, items, usage, record.index, turn.reasoning, {
                usage: options.chat?.usage !== false,
              });
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      const reply500 = errorReply(api, 500, `scenario ${scenario.name}, turn ${turnIndex}: ${error.message}`);
      return sendJson(res, reply500.status, reply500.body, reply500.headers);
    }
    if ("json" in answer) return sendJson(res, 200, answer.json);
    await sendEvents(res, answer.events, turn.eventDelayMs ?? 0);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must fail the test loudly rather than pass for an upstream outage.
      console.error("model server failed", error);
      if (!res.headersSent) res.writeHead(599, { "content-type": "text/plain" });
      res.end(`model server failed: ${String(error)}`);
    });
  });
  const { url, close } = await listenOnLoopback(server, options.port);
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    requests,
    modelRequests: () => requests.filter((request) => request.index >= 0),
    scenario: () => scenario,
    useScenario(next) {
      scenario = resolveScenario(next);
    },
    close,
  };
}

/**
 * Several scenarios as one (e.g. the planner's `plan-todo` then an agent's script): turns in order, each keeping its
 * own scenario's usage, since the first matching turn answers.
 */
export function combineScenarios(name: string, parts: Array<string | ScenarioInput>): ScenarioInput {
  const turns = parts.flatMap((part) => {
    const scenario = typeof part === "string" ? loadScenario(part) : part;
    return scenario.turns.map((turn) => ({ ...turn, usage: turn.usage ?? scenario.usage }));
  });
  return { name, turns };
}
