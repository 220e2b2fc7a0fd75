import { z } from "zod";
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool, ChatToolChoice } from "./chat-wire";
import { estimateInputTokens } from "./estimate-tokens";

/**
 * An OpenAI Responses request (what Codex sends) as a Chat Completions request. What Chat has no room for is
 * dropped: earlier reasoning items (the upstream cannot read another model's reasoning anyway), hosted tools
 * (web search: the gateway never lets an upstream browse for a run). Codex's freeform tools (`apply_patch`, type
 * `custom`) become functions taking one string, `input`; `customTools` names them so the answer's calls go back
 * as `custom_tool_call`s.
 */

export type TranslatedRequest = {
  request: ChatRequest;
  /** Tool names that were freeform (`custom`) in the client's request. */
  customTools: ReadonlySet<string>;
  /** Input tokens by the rule of thumb, for an upstream that reports no usage. */
  estimatedInputTokens: number;
};

export class TranslationError extends Error {
  override readonly name = "TranslationError";
}

/** The request as `schema` reads it, or a TranslationError naming the protocol and the first field that is off. */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown, protocol: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new TranslationError(
    `The request is not an ${protocol} request (${issue?.path.join(".") || "body"}: ${issue?.message}).`,
  );
}

const partSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  image_url: z.union([z.string(), z.object({ url: z.string() })]).optional(),
  refusal: z.string().optional(),
});
const itemSchema = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([z.string(), z.array(partSchema)]).optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  input: z.string().optional(),
  call_id: z.string().optional(),
  output: z.unknown().optional(),
  action: z.unknown().optional(),
});
const toolSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
});
const requestSchema = z.looseObject({
  model: z.string().min(1),
  instructions: z.string().nullish(),
  input: z.union([z.string(), z.array(itemSchema)]),
  tools: z.array(toolSchema).nullish(),
  tool_choice: z
    .union([z.string(), z.looseObject({ type: z.string(), name: z.string().optional() })])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stream: z.boolean().nullish(),
  text: z
    .looseObject({
      format: z
        .looseObject({
          type: z.string(),
          name: z.string().optional(),
          schema: z.unknown(),
          strict: z.boolean().nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

function textOfContent(content: z.infer<typeof itemSchema>["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? [])
    .map((part) => part.text ?? part.refusal ?? "")
    .filter(Boolean)
    .join("\n");
}

function userContent(content: z.infer<typeof itemSchema>["content"]): string | ChatContentPart[] {
  if (typeof content === "string" || !content?.some((part) => part.type === "input_image")) {
    return textOfContent(content);
  }
  return content.flatMap((part): ChatContentPart[] => {
    if (part.type === "input_image" && part.image_url) {
      const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
      return [{ type: "image_url", image_url: { url } }];
    }
    return part.text ? [{ type: "text", text: part.text }] : [];
  });
}

/** A tool's output: a string, or content parts (text kept, images described). */
function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  const parts = z.array(partSchema).safeParse(output);
  if (parts.success) return parts.data.map((part) => part.text ?? `[${part.type}]`).join("\n");
  const wrapped = z.object({ content: z.string() }).safeParse(output);
  return wrapped.success ? wrapped.data.content : JSON.stringify(output ?? "");
}

const freeformParameters = {
  type: "object",
  properties: { input: { type: "string", description: "The whole raw input of the tool, verbatim." } },
  required: ["input"],
  additionalProperties: false,
};

export function chatFromResponses(body: unknown): TranslatedRequest {
  const req = parseRequest(requestSchema, body, "OpenAI Responses");
  const system: string[] = [];
  if (req.instructions) system.push(req.instructions);
  const messages: ChatMessage[] = [];
  const items =
    typeof req.input === "string" ? [{ type: "message", role: "user", content: req.input }] : req.input;

  const lastAssistant = (): Extract<ChatMessage, { role: "assistant" }> => {
    const last = messages.at(-1);
    if (last?.role === "assistant") return last;
    const fresh: Extract<ChatMessage, { role: "assistant" }> = { role: "assistant", content: null };
    messages.push(fresh);
    return fresh;
  };

  for (const item of items) {
    const type = item.type ?? "message";
    if (type === "message") {
      // Chat templates of many open models accept one system message, first: developer and system text is
      // gathered there.
      if (item.role === "system" || item.role === "developer") system.push(textOfContent(item.content));
      else if (item.role === "assistant") {
        const text = textOfContent(item.content);
        const last = messages.at(-1);
        if (last?.role === "assistant" && !last.tool_calls)
          last.content = [last.content, text].filter(Boolean).join("\n");
        else messages.push({ role: "assistant", content: text });
      } else messages.push({ role: "user", content: userContent(item.content) });
    } else if (type === "function_call" || type === "custom_tool_call" || type === "local_shell_call") {
      const assistant = lastAssistant();
      const args =
        type === "function_call"
          ? (item.arguments ?? "{}")
          : type === "custom_tool_call"
            ? JSON.stringify({ input: item.input ?? "" })
            : JSON.stringify(item.action ?? {});
      assistant.tool_calls = [
        ...(assistant.tool_calls ?? []),
        {
          id: item.call_id ?? `call_${messages.length}`,
          type: "function",
          function: {
            name: item.name ?? (type === "local_shell_call" ? "local_shell" : "tool"),
            arguments: args,
          },
        },
      ];
    } else if (
      type === "function_call_output" ||
      type === "custom_tool_call_output" ||
      type === "local_shell_call_output"
    ) {
      messages.push({ role: "tool", tool_call_id: item.call_id ?? "", content: outputText(item.output) });
    }
    // reasoning, web_search_call, compaction summaries…: nothing Chat can carry.
  }
  if (system.length > 0) messages.unshift({ role: "system", content: system.filter(Boolean).join("\n\n") });

  const customTools = new Set<string>();
  const tools: ChatTool[] = [];
  for (const tool of req.tools ?? []) {
    if (!tool.name) continue;
    if (tool.type === "function") {
      tools.push({
        type: "function",
        function: {
          name: tool.name,
          ...(tool.description ? { description: tool.description } : {}),
          parameters: tool.parameters ?? { type: "object", properties: {} },
        },
      });
    } else if (tool.type === "custom") {
      customTools.add(tool.name);
      tools.push({
        type: "function",
        function: {
          name: tool.name,
          description:
            `${tool.description ?? ""}\nPass the tool's whole raw input as the string argument \`input\`.`.trim(),
          parameters: freeformParameters,
        },
      });
    }
  }

  const request: ChatRequest = { model: req.model, messages, stream: req.stream === true };
  if (request.stream) request.stream_options = { include_usage: true };
  if (tools.length > 0) {
    request.tools = tools;
    const choice = toolChoice(req.tool_choice);
    if (choice) request.tool_choice = choice;
    if (typeof req.parallel_tool_calls === "boolean") request.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.max_output_tokens) request.max_tokens = req.max_output_tokens;
  if (typeof req.temperature === "number") request.temperature = req.temperature;
  if (typeof req.top_p === "number") request.top_p = req.top_p;
  const format = req.text?.format;
  if (format?.type === "json_schema") {
    request.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name ?? "output",
        schema: format.schema,
        strict: format.strict ?? undefined,
      },
    };
  } else if (format?.type === "json_object") {
    request.response_format = { type: "json_object" };
  }
  return { request, customTools, estimatedInputTokens: estimateRequestTokens(request) };
}

function toolChoice(choice: z.infer<typeof requestSchema>["tool_choice"]): ChatToolChoice | undefined {
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (typeof choice === "object" && choice?.type === "function" && choice.name) {
    return { type: "function", function: { name: choice.name } };
  }
  return undefined;
}

/** What the model reads of a Chat request: message text, tool call arguments, tool definitions. */
export function estimateRequestTokens(request: ChatRequest): number {
  const texts: string[] = [];
  for (const message of request.messages) {
    if (typeof message.content === "string") texts.push(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content) if (part.type === "text") texts.push(part.text);
    }
    if (message.role === "assistant") {
      for (const call of message.tool_calls ?? []) texts.push(call.function.name, call.function.arguments);
    }
  }
  if (request.tools) texts.push(JSON.stringify(request.tools));
  return estimateInputTokens(texts);
}
