import { createHash } from "node:crypto";
import { fnv1a } from "./embeddings.js";
import { type CacheMeasure, CHARS_PER_TOKEN } from "./prompt-cache.js";
import type { MockStep, ToolCallSpec } from "./steps.js";

/** The parts of an OpenAI chat request the mock reads; everything else is accepted and ignored. */
export interface RequestMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
  tool_call_id?: string;
}

export interface ChatRequestBody {
  model: string;
  messages: RequestMessage[];
  tools?: { function?: { name?: string } }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
}

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type FinishReason = "stop" | "length" | "tool_calls";

export type PlannedReply =
  | {
      kind: "message";
      content: string;
      /** Timestamps to send as content, made when each chunk leaves (benchmarks). */
      stamps: number;
      toolCalls: PlannedToolCall[];
      interleave: boolean;
      finishReason: FinishReason;
    }
  | { kind: "error"; status: number; body: OpenAiErrorBody; retryAfter?: number }
  | { kind: "hang" };

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(
  message: string,
  type = "invalid_request_error",
  code: string | null = null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/** Text of a message's content: a string, or the text parts of a content array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : "")).join("");
}

/** How many images a message's content carries (`image_url` parts, or `image` parts of other formats). */
export function imageParts(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  return content.filter((part) => part && typeof part === "object" && /^image/.test(String(part.type))).length;
}

/**
 * A user message that only carries tool results' images: it has image parts and follows the tool messages (OpenAI
 * takes no images in tool messages, so engines send them this way). It is not the person speaking.
 */
function isToolAttachment(messages: readonly RequestMessage[], index: number): boolean {
  const message = messages[index]!;
  if (message.role !== "user" || imageParts(message.content) === 0) return false;
  const previous = messages[index - 1];
  return previous?.role === "tool" || (previous !== undefined && isToolAttachment(messages, index - 1));
}

/** The person's last message: the last user message that is not a tool result's images. */
export function lastUserIndex(messages: readonly RequestMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === "user" && !isToolAttachment(messages, i)) return i;
  }
  return -1;
}

/** Images in the request, all messages together. */
export function imageCount(request: ChatRequestBody): number {
  return request.messages.reduce((n, m) => n + imageParts(m.content), 0);
}

interface PlanContext {
  request: ChatRequestBody;
  step: MockStep;
  /** The last user message without its directive line. */
  body: string;
  cache: CacheMeasure;
}

export function planReply({ request, step, body, cache }: PlanContext): PlannedReply {
  switch (step.reply) {
    case "error":
      return errorReply(step, cache);
    case "hang":
      return { kind: "hang" };
    case "tool_calls":
      return toolCallsReply(step, request);
    case "stamps":
      return { ...message("", request), stamps: step.count ?? 10 };
    case "text":
      return message(step.chunks?.join("") ?? step.text ?? body, request);
    case "markdown":
      return message(MARKDOWN_SAMPLE, request);
    case "long":
      return message(longText(Math.round((step.kb ?? 1) * 1024)), request);
    case "digest":
      return message(JSON.stringify(digest(request, body, cache)), request);
    case "system":
      return message(systemText(request).join("\n\n"), request);
    case "empty":
      return message("", request);
    default:
      return message(`Mock reply: ${body}`, request);
  }
}

function message(content: string, request: ChatRequestBody): PlannedReply & { kind: "message" } {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  const limit = maxTokens != null && maxTokens > 0 ? maxTokens * CHARS_PER_TOKEN : Number.POSITIVE_INFINITY;
  const truncated = content.length > limit;
  return {
    kind: "message",
    content: truncated ? content.slice(0, limit) : content,
    stamps: 0,
    toolCalls: [],
    interleave: false,
    finishReason: truncated ? "length" : "stop",
  };
}

/** Tool calls until `rounds` rounds happened since the last user message (0 = forever), then a follow-up. */
function toolCallsReply(step: MockStep, request: ChatRequestBody): PlannedReply {
  const { messages } = request;
  const since = messages.slice(lastUserIndex(messages) + 1);
  const roundsDone = since.filter((m) => m.role === "assistant" && m.tool_calls?.length).length;
  const rounds = step.rounds ?? 1;
  if (rounds !== 0 && roundsDone >= rounds) return message(step.follow_up ?? followUp(since), request);

  const offered = request.tools?.[0]?.function?.name;
  const specs: ToolCallSpec[] | undefined = step.calls ?? (offered ? [{ name: offered, arguments: "{}" }] : undefined);
  if (!specs?.length) {
    return {
      kind: "error",
      status: 400,
      body: openAiError("mock tool_calls: list calls in the message or offer tools in the request"),
    };
  }
  const toolCalls = specs.map((spec, index) => {
    const args = typeof spec.arguments === "string" ? spec.arguments : JSON.stringify(spec.arguments);
    // Unique within a conversation (the message count grows every round) yet the same on every run.
    const id = spec.id ?? `call_${fnv1a(`${messages.length}|${index}|${spec.name}|${args}`).toString(36)}`;
    return { id, name: spec.name, arguments: args };
  });
  return { ...message("", request), toolCalls, interleave: step.interleave ?? false, finishReason: "tool_calls" };
}

const RESULT_PREVIEW_CHARS = 200;

/** Mentions every result of the latest round so tests can see the results reached the model. */
function followUp(since: readonly RequestMessage[]): string {
  const lastCall = since.findLastIndex((m) => m.role === "assistant" && m.tool_calls?.length);
  const names = new Map((since[lastCall]?.tool_calls ?? []).map((c) => [c.id, c.function?.name]));
  const after = since.slice(lastCall + 1);
  const images = after.reduce((n, m) => n + (m.role === "user" ? imageParts(m.content) : 0), 0);
  const results = after
    .filter((m) => m.role === "tool")
    .map((m) => {
      const text = contentText(m.content);
      const preview = text.length > RESULT_PREVIEW_CHARS ? `${text.slice(0, RESULT_PREVIEW_CHARS)}…` : text;
      return `${names.get(m.tool_call_id) ?? m.tool_call_id}: ${preview}`;
    });
  const seen = images ? ` (and ${images} image${images === 1 ? "" : "s"})` : "";
  return results.length ? `Tool results${seen}: ${results.join("; ")}` : "Tool results: (none)";
}

const ERROR_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Mock bad request", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to use this model", type: "invalid_request_error", code: "forbidden" },
  404: { message: "The model does not exist", type: "invalid_request_error", code: "model_not_found" },
  429: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded", type: "server_error", code: null },
};

export function errorReply(step: MockStep, cache: CacheMeasure): PlannedReply & { kind: "error" } {
  const status = step.status ?? 500;
  const defaults = ERROR_DEFAULTS[status] ?? { message: `Mock error ${status}`, type: "server_error", code: null };
  const code = step.code ?? defaults.code;
  const contextMessage =
    code === "context_length_exceeded"
      ? `This model's maximum context length is 8192 tokens. However, your messages resulted in ${cache.promptTokens} tokens.`
      : undefined;
  return {
    kind: "error",
    status,
    body: openAiError(step.message ?? contextMessage ?? defaults.message, step.type ?? defaults.type, code),
    retryAfter: step.retry_after,
  };
}

/** The text of the system and developer messages, in request order. */
function systemText(request: ChatRequestBody): string[] {
  return request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => contentText(m.content));
}

/** What the mock received, as a reply, so a test can see what an engine sent. */
function digest(request: ChatRequestBody, body: string, cache: CacheMeasure) {
  const system = systemText(request).join("\n");
  return {
    model: request.model,
    messages: request.messages.length,
    roles: request.messages.map((m) => m.role),
    system_sha256: createHash("sha256").update(system).digest("hex").slice(0, 16),
    system_chars: system.length,
    tools: (request.tools ?? []).map((t) => t.function?.name ?? null),
    last_user: body,
    images: imageCount(request),
    prompt_tokens: cache.promptTokens,
    cached_tokens: cache.cachedTokens,
  };
}

export const MARKDOWN_SAMPLE = `# Mock markdown sample

Some **bold**, some _italic_, some \`inline code\` and a [link](https://example.com).

## A list

1. First item
2. Second item
   - nested bullet
   - another one

## A table

| Planet  | Moons | Ringed |
|---------|------:|:------:|
| Earth   |     1 |   no   |
| Jupiter |    95 |  yes   |
| Saturn  |   146 |  yes   |

## Code

\`\`\`ts
export function greet(name: string): string {
  return \`Hello, \${name}!\`;
}
\`\`\`

> A blockquote to finish.
`;

const LONG_WORDS =
  "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(
    " ",
  );

/** Exactly `chars` characters of numbered lines, the same on every call. */
export function longText(chars: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let n = 1; length < chars; n++) {
    const words = Array.from({ length: 10 }, (_, i) => LONG_WORDS[(n * 7 + i * 3) % LONG_WORDS.length]);
    const line = `${String(n).padStart(5, "0")}: ${words.join(" ")}.\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join("").slice(0, chars);
}
