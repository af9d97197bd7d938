import type { IncomingMessage } from "node:http";
import { toStorableJson, toStorableText } from "@cybros/protocol";
import { createParser } from "eventsource-parser";
import { connectionError, httpStatusError, LlmError } from "./errors.js";
import type { ChatMessage, ContentPart, LlmProviderTarget, LlmTool } from "./provider.js";
import { postToProvider, readJsonBody } from "./provider-http.js";

/**
 * `POST /chat/completions` in the OpenAI wire format, streamed and read straight off Node's response: no web
 * streams and no schema validation per chunk between the socket and the caller (decisions/0010); or not streamed,
 * for a connection test. The shapes read here are checked by hand, field by field, as they are used. Text and tool
 * calls leave here storable (NUL removed, lone surrogates replaced): a model that emits either must not fail the
 * run that stores its reply.
 */

/** What a completed stream said besides its text, which went to the handlers as it came. */
export interface CompletionOutcome {
  /** As the provider spelled it (`stop`, `length`, `tool_calls`, …); a stream without one is rejected. */
  finishReason: string | undefined;
  /** The provider filled `refusal` instead of `content`. */
  refused: boolean;
  usage: WireUsage | undefined;
  toolCalls: { callId: string; name: string; argsText: string }[];
}

export interface WireUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

export interface CompletionHandlers {
  onText(delta: string): void;
  onReasoning(delta: string): void;
  /** A tool call's first fragment (its arguments may follow in later chunks). */
  onToolCallStart(): void;
  /** Any chunk at all, output or not (keeps an idle timer alive during long argument streams). */
  onChunk(): void;
}

export interface CompletionRequest {
  provider: LlmProviderTarget;
  model: string;
  messages: readonly ChatMessage[];
  tools?: readonly LlmTool[];
  maxOutputTokens?: number;
  temperature?: number;
}

/**
 * Sends the request and reads the stream to its end, calling the handlers as chunks arrive. Rejects with an
 * LlmError. Aborting the signal destroys the request at once; the caller, which owns the signal, tells an abort
 * from a failure by it (before the answer this rejects with the signal's reason, after it with a broken stream).
 */
export async function streamCompletion(
  request: CompletionRequest,
  handlers: CompletionHandlers,
  signal: AbortSignal,
): Promise<CompletionOutcome> {
  const response = await postToProvider(request.provider, "/chat/completions", completionBody(request, true), signal);
  return readStream(response, handlers, request.provider.apiKey);
}

/** One completion answered whole (not streamed): its text, which may be empty. Rejects with an LlmError. */
export async function requestCompletion(request: CompletionRequest, signal: AbortSignal): Promise<{ text: string }> {
  const response = await postToProvider(request.provider, "/chat/completions", completionBody(request, false), signal);
  const answer = (await readJsonBody(response, signal)) as {
    error?: unknown;
    choices?: { message?: { content?: unknown } | null }[];
  };
  if (answer?.error != null) throw reportedError(answer.error, request.provider.apiKey, "in its answer");
  if (!Array.isArray(answer?.choices)) throw malformed("`choices` is not a list");
  const content = answer.choices[0]?.message?.content;
  if (content != null && typeof content !== "string") throw malformed("`content` is not text");
  return { text: content ?? "" };
}

/** The request body, keys in the order OpenAI's own clients send them. */
function completionBody(request: CompletionRequest, stream: boolean): Record<string, unknown> {
  const tools = request.tools?.length ? toWireTools(request.tools) : undefined;
  return {
    model: request.model,
    max_tokens: request.maxOutputTokens,
    temperature: request.temperature,
    messages: toWireMessages(request.messages),
    tools,
    tool_choice: tools ? "auto" : undefined,
    stream: stream || undefined,
    stream_options: stream ? { include_usage: true } : undefined,
  };
}

/**
 * Our messages in the wire format. A tool call's arguments go out as the model wrote them (`argsText`) when that
 * text is JSON, so a replayed prompt is byte-identical and provider prompt caches keep hitting; text that is not
 * JSON goes as a JSON string.
 */
export function toWireMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  return messages.map((message) => {
    switch (message.role) {
      case "system":
        return { role: message.role, content: message.content };
      case "user":
        return {
          role: "user",
          content: typeof message.content === "string" ? message.content : message.content.map(toWirePart),
        };
      case "assistant": {
        const calls = message.toolCalls ?? [];
        if (calls.length === 0) return { role: "assistant", content: message.content };
        return {
          role: "assistant",
          content: message.content || null,
          tool_calls: calls.map((call) => ({
            id: call.callId,
            type: "function",
            function: { name: call.name, arguments: verbatimArguments(call.argsText) },
          })),
        };
      }
      default:
        return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
    }
  });
}

/** A content part as OpenAI takes it: images as data URLs in `image_url` parts. */
function toWirePart(part: ContentPart): Record<string, unknown> {
  if (part.type === "text") return { type: "text", text: part.text };
  return { type: "image_url", image_url: { url: `data:${part.contentType};base64,${part.base64}` } };
}

function verbatimArguments(argsText: string): string {
  try {
    JSON.parse(argsText);
    return argsText;
  } catch {
    return JSON.stringify(argsText);
  }
}

function toWireTools(tools: readonly LlmTool[]): Record<string, unknown>[] {
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

interface PendingCall {
  callId: string | undefined;
  name: string;
  argsText: string;
}

function readStream(
  response: IncomingMessage,
  handlers: CompletionHandlers,
  apiKey: string | null | undefined,
): Promise<CompletionOutcome> {
  const outcome: CompletionOutcome = { finishReason: undefined, refused: false, usage: undefined, toolCalls: [] };
  const text = storableDeltas(handlers.onText);
  const reasoning = storableDeltas(handlers.onReasoning);
  const output = { onText: text.push, onReasoning: reasoning.push };
  /** By the provider's index; a call without an index continues the last one. */
  const calls = new Map<number, PendingCall>();
  let lastIndex = -1;
  let done = false;

  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      response.destroy();
      reject(error);
    };

    const onData = (data: string) => {
      if (data === "[DONE]") {
        done = true;
        return;
      }
      let chunk: ChunkShape;
      try {
        chunk = JSON.parse(data);
      } catch (error) {
        throw new LlmError("invalid_response", `The provider sent a malformed response: ${(error as Error).message}`);
      }
      if (typeof chunk !== "object" || chunk === null) throw malformed("a chunk that is not an object");
      handlers.onChunk();
      if (chunk.error !== undefined && chunk.error !== null) throw reportedError(chunk.error, apiKey, "mid-stream");
      if (chunk.usage) outcome.usage = chunk.usage;
      if (chunk.choices === undefined || chunk.choices === null) return;
      if (!Array.isArray(chunk.choices)) throw malformed("`choices` is not a list");
      const choice = chunk.choices[0];
      if (!choice) return;
      if (choice.finish_reason != null) outcome.finishReason = String(choice.finish_reason);
      const delta = choice.delta;
      if (!delta) return;

      const reasoningDelta = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoningDelta === "string" && reasoningDelta) reasoning.push(reasoningDelta);
      const content = delta.content;
      if (typeof content === "string") {
        if (content) text.push(content);
      } else if (Array.isArray(content)) {
        for (const part of content) readContentPart(part, output);
      } else if (content != null) {
        throw malformed("`content` is neither text nor a list of parts");
      }
      if (typeof delta.refusal === "string" && delta.refusal) {
        outcome.refused = true;
        text.push(delta.refusal);
      }
      if (delta.tool_calls != null) {
        if (!Array.isArray(delta.tool_calls)) throw malformed("`tool_calls` is not a list");
        for (const fragment of delta.tool_calls) {
          const index = typeof fragment?.index === "number" ? fragment.index : Math.max(lastIndex, 0);
          lastIndex = index;
          let call = calls.get(index);
          if (!call) {
            call = { callId: undefined, name: "", argsText: "" };
            calls.set(index, call);
            handlers.onToolCallStart();
          }
          if (typeof fragment?.id === "string" && fragment.id && !call.callId) call.callId = fragment.id;
          const fn = fragment?.function;
          if (typeof fn?.name === "string" && fn.name) call.name ||= fn.name;
          if (typeof fn?.arguments === "string") call.argsText += fn.arguments;
        }
      }
    };

    const parser = createParser({
      onEvent: (event) => {
        if (failed || done) return;
        try {
          onData(event.data);
        } catch (error) {
          fail(error);
        }
      },
    });

    response.on("data", (text: string) => {
      if (!failed) parser.feed(text);
    });
    let ended = false;
    response.on("error", (error) => fail(connectionError("The connection broke while streaming", error)));
    // A socket closed mid-body ends the response without `end` (and, depending on how, without `error`).
    response.on("close", () => {
      if (!ended) fail(connectionError("The connection broke while streaming"));
    });
    response.on("end", () => {
      ended = true;
      if (failed) return;
      if (outcome.finishReason === undefined) {
        fail(new LlmError("connection_error", "The provider's stream ended before the reply was complete"));
        return;
      }
      text.flush();
      reasoning.flush();
      outcome.toolCalls = [...calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, call], position) => ({
          callId: toStorableText(call.callId ?? `call_${position}_${Date.now().toString(36)}`),
          name: toStorableText(call.name),
          argsText: storableArguments(call.argsText),
        }));
      resolve(outcome);
    });
  });
}

/**
 * Streamed text made storable delta by delta. A high surrogate at the end of a delta waits for the next one, as
 * its pair may arrive there; one still unpaired at the end becomes U+FFFD.
 */
function storableDeltas(emit: (delta: string) => void): { push(delta: string): void; flush(): void } {
  let held = "";
  return {
    push(delta) {
      let joined = held + delta;
      const last = joined.charCodeAt(joined.length - 1);
      held = last >= 0xd800 && last <= 0xdbff ? joined.slice(-1) : "";
      if (held) joined = joined.slice(0, -1);
      const storable = toStorableText(joined);
      if (storable) emit(storable);
    },
    flush() {
      if (held) emit(toStorableText(held));
      held = "";
    },
  };
}

/**
 * Arguments whose text and parsed value are both storable: verbatim when they already are (so a replayed prompt
 * stays byte-identical), else the repaired value re-encoded. Text that is not JSON is repaired as text.
 */
function storableArguments(argsText: string): string {
  const repaired = toStorableText(argsText);
  let value: unknown;
  try {
    value = JSON.parse(repaired);
  } catch {
    return repaired;
  }
  const storable = toStorableJson(value);
  return storable === value ? repaired : JSON.stringify(storable);
}

/** Content as a list of parts (some providers): text parts, and reasoning in `thinking` parts. */
function readContentPart(part: unknown, handlers: Pick<CompletionHandlers, "onText" | "onReasoning">): void {
  if (typeof part !== "object" || part === null) return;
  const { type, text, thinking } = part as { type?: unknown; text?: unknown; thinking?: unknown };
  if (type === "text" && typeof text === "string" && text) handlers.onText(text);
  if (type === "thinking" && Array.isArray(thinking)) {
    const reasoning = thinking
      .filter((t): t is { type: "text"; text: string } => t?.type === "text" && typeof t.text === "string")
      .map((t) => t.text)
      .join("");
    if (reasoning) handlers.onReasoning(reasoning);
  }
}

function malformed(what: string): LlmError {
  return new LlmError("invalid_response", `The provider sent a malformed response: ${what}`);
}

/** An error the provider reported inside a 200 answer (some gateways do when an upstream fails). */
function reportedError(error: unknown, apiKey: string | null | undefined, where: string): LlmError {
  const { message, code } =
    typeof error === "object" && error !== null ? (error as { message?: unknown; code?: unknown }) : { message: error };
  const status = typeof code === "number" && code >= 400 && code < 600 ? code : undefined;
  const text = typeof message === "string" && message ? message : JSON.stringify(error);
  return httpStatusError({ status: status ?? 502, detail: `reported ${where}: ${text}`, body: text, apiKey });
}

/** The fields read from a chunk; anything may be missing or of another type, so each is checked where used. */
interface ChunkShape {
  error?: unknown;
  usage?: WireUsage | null;
  choices?: {
    finish_reason?: unknown;
    delta?: {
      content?: unknown;
      reasoning_content?: unknown;
      reasoning?: unknown;
      refusal?: unknown;
      tool_calls?: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[];
    } | null;
  }[];
}
