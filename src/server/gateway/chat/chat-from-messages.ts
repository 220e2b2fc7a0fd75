import { z } from "zod";
import { estimateRequestTokens, parseRequest, type TranslatedRequest } from "./chat-from-responses";
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool, ChatToolChoice } from "./chat-wire";

/**
 * An Anthropic Messages request (what Claude Code sends) as a Chat Completions request. A user turn's
 * `tool_result` blocks become `tool` messages (Chat wants them right after the assistant's calls, before any
 * text); earlier `thinking` blocks are dropped (signed for Anthropic's models only); server tools without an
 * input schema (web search, code execution) are dropped: the gateway lets no upstream act for a run.
 */

const blockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
  source: z
    .looseObject({
      type: z.string(),
      media_type: z.string().optional(),
      data: z.string().optional(),
      url: z.string().optional(),
    })
    .optional(),
});
type Block = z.infer<typeof blockSchema>;
const contentSchema = z.union([z.string(), z.array(blockSchema)]);
const requestSchema = z.looseObject({
  model: z.string().min(1),
  system: contentSchema.nullish(),
  messages: z.array(z.looseObject({ role: z.string(), content: contentSchema })),
  tools: z
    .array(
      z.looseObject({
        name: z.string(),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .nullish(),
  tool_choice: z
    .looseObject({
      type: z.string(),
      name: z.string().optional(),
      disable_parallel_tool_use: z.boolean().optional(),
    })
    .nullish(),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop_sequences: z.array(z.string()).nullish(),
  stream: z.boolean().nullish(),
});

function blocksOf(content: z.infer<typeof contentSchema>): Block[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

function textOf(blocks: Block[]): string {
  return blocks
    .filter((block) => block.type === "text")
    .map((block) => block.text ?? "")
    .join("\n");
}

/** A tool result's content: a string or blocks (text kept; an image noted, since a tool message is text only). */
function resultText(block: Block): string {
  const content = block.content;
  let text: string;
  if (typeof content === "string") text = content;
  else {
    const parsed = z.array(blockSchema).safeParse(content ?? []);
    text = parsed.success
      ? parsed.data.map((part) => (part.type === "text" ? (part.text ?? "") : `[${part.type}]`)).join("\n")
      : JSON.stringify(content);
  }
  return block.is_error ? `Error: ${text}` : text;
}

function imagePart(block: Block): ChatContentPart | undefined {
  const source = block.source;
  if (!source) return undefined;
  if (source.type === "base64" && source.data) {
    return {
      type: "image_url",
      image_url: { url: `data:${source.media_type ?? "image/png"};base64,${source.data}` },
    };
  }
  if (source.type === "url" && source.url) return { type: "image_url", image_url: { url: source.url } };
  return undefined;
}

export function chatFromMessages(body: unknown): TranslatedRequest {
  const req = parseRequest(requestSchema, body, "Anthropic Messages");
  const system: string[] = [];
  if (req.system) system.push(textOf(blocksOf(req.system)));
  const messages: ChatMessage[] = [];

  for (const message of req.messages) {
    const blocks = blocksOf(message.content);
    if (message.role === "system") {
      // Claude Code puts its environment block here; Chat templates want one system message, first.
      system.push(textOf(blocks));
    } else if (message.role === "assistant") {
      const text = textOf(blocks);
      const calls = blocks
        .filter((block) => block.type === "tool_use")
        .map((block) => ({
          id: block.id ?? `call_${messages.length}`,
          type: "function" as const,
          function: { name: block.name ?? "tool", arguments: JSON.stringify(block.input ?? {}) },
        }));
      messages.push({
        role: "assistant",
        content: text || null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      });
    } else {
      for (const block of blocks) {
        if (block.type === "tool_result") {
          messages.push({ role: "tool", tool_call_id: block.tool_use_id ?? "", content: resultText(block) });
        }
      }
      const rest = blocks.filter((block) => block.type === "text" || block.type === "image");
      if (rest.length === 0) continue;
      const images = rest.filter((block) => block.type === "image").map(imagePart);
      if (images.some(Boolean)) {
        const parts = rest.flatMap((block): ChatContentPart[] => {
          if (block.type === "text") return block.text ? [{ type: "text", text: block.text }] : [];
          const part = imagePart(block);
          return part ? [part] : [];
        });
        messages.push({ role: "user", content: parts });
      } else {
        const text = textOf(rest);
        if (text) messages.push({ role: "user", content: text });
      }
    }
  }
  if (system.length > 0) messages.unshift({ role: "system", content: system.filter(Boolean).join("\n\n") });

  const tools: ChatTool[] = (req.tools ?? [])
    .filter((tool) => tool.input_schema !== undefined)
    .map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.input_schema ?? { type: "object", properties: {} },
      },
    }));

  const request: ChatRequest = { model: req.model, messages, stream: req.stream === true };
  if (request.stream) request.stream_options = { include_usage: true };
  if (tools.length > 0) {
    request.tools = tools;
    const choice = toolChoice(req.tool_choice);
    if (choice) request.tool_choice = choice;
    if (req.tool_choice?.disable_parallel_tool_use) request.parallel_tool_calls = false;
  }
  if (req.max_tokens) request.max_tokens = req.max_tokens;
  if (typeof req.temperature === "number") request.temperature = req.temperature;
  if (typeof req.top_p === "number") request.top_p = req.top_p;
  if (req.stop_sequences?.length) request.stop = req.stop_sequences;
  return { request, customTools: new Set(), estimatedInputTokens: estimateRequestTokens(request) };
}

function toolChoice(choice: z.infer<typeof requestSchema>["tool_choice"]): ChatToolChoice | undefined {
  switch (choice?.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return choice.name ? { type: "function", function: { name: choice.name } } : undefined;
    default:
      return undefined;
  }
}
