import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from "@ai-sdk/provider";
import { LlmError, toLlmError } from "./errors.js";
import {
  type ChatMessage,
  type LlmProviderTarget,
  type LlmTool,
  openAiCompatible,
  toModelPrompt,
  toModelTools,
} from "./provider.js";

export interface StreamChatOptions {
  provider: LlmProviderTarget;
  model: string;
  messages: readonly ChatMessage[];
  tools?: readonly LlmTool[];
  /** Aborting closes the upstream HTTP request; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with each text delta the moment it arrives (no buffering): the live stream's hot path. */
  onTextDelta?: (delta: string) => void;
  onReasoningDelta?: (delta: string) => void;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: LlmError }) => void;
  /** From sending the request to the first output (text, reasoning or a tool call). */
  firstTokenTimeoutMs?: number;
  /** Longest silence allowed between chunks once output started. */
  idleTimeoutMs?: number;
  /** Retries for 429, 5xx and network errors, only while nothing was output yet. */
  maxRetries?: number;
  /** First backoff; each retry doubles it (a provider's Retry-After wins when longer). */
  retryBaseDelayMs?: number;
  maxOutputTokens?: number;
  temperature?: number;
}

export interface LlmToolCall {
  callId: string;
  name: string;
  /** Exactly what the model streamed, fragments joined. */
  argsText: string;
  /** Parsed arguments ({} for empty text), absent when `parseError` is set. */
  args?: unknown;
  parseError?: string;
}

export type LlmFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";

export interface LlmUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
}

export interface ChatResult {
  text: string;
  reasoning: string;
  toolCalls: LlmToolCall[];
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  timing: { ttftMs: number | null; durationMs: number };
  attempts: number;
}

export const STREAM_DEFAULTS = {
  firstTokenTimeoutMs: 120_000,
  idleTimeoutMs: 60_000,
  maxRetries: 2,
  retryBaseDelayMs: 500,
};
const MAX_BACKOFF_MS = 30_000;

/**
 * One streamed chat completion through the AI SDK's provider interface (the model's `doStream`, which
 * `streamText` wraps in several more stream stages: half the CPU per chunk without them, decision 0004),
 * with the tool loop left to the caller. Retries happen only before the first output, so a caller never
 * sees text twice. Rejects with an LlmError, or with the signal's reason when the caller aborted.
 */
export async function streamChat(options: StreamChatOptions): Promise<ChatResult> {
  const started = performance.now();
  const maxRetries = options.maxRetries ?? STREAM_DEFAULTS.maxRetries;
  const baseDelay = options.retryBaseDelayMs ?? STREAM_DEFAULTS.retryBaseDelayMs;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const result = await attemptStream(options, started);
      return { ...result, attempts: attempt };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!(error instanceof LlmError)) throw error;
      error.attempts = attempt;
      if (error.outputStarted || !error.retryable || attempt > maxRetries) throw error;
      const delayMs = Math.min(Math.max(baseDelay * 2 ** (attempt - 1), error.retryAfterMs ?? 0), MAX_BACKOFF_MS);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

type AttemptResult = Omit<ChatResult, "attempts">;

async function attemptStream(options: StreamChatOptions, started: number): Promise<AttemptResult> {
  const firstTokenTimeoutMs = options.firstTokenTimeoutMs ?? STREAM_DEFAULTS.firstTokenTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? STREAM_DEFAULTS.idleTimeoutMs;
  const upstream = new AbortController();
  const forwardAbort = () => upstream.abort(options.signal!.reason);
  options.signal?.addEventListener("abort", forwardAbort, { once: true });

  // One timer per attempt; each chunk only stamps `lastActivity` (the hot path stays a clock read).
  let timedOut: "first_token" | "idle" | undefined;
  let outputStarted = false;
  let lastActivity = performance.now();
  let ttftMs: number | null = null;
  const attemptStart = lastActivity;
  const checkSilence = () => {
    const limit = outputStarted ? idleTimeoutMs : firstTokenTimeoutMs;
    const since = outputStarted ? lastActivity : attemptStart;
    const remaining = since + limit - performance.now();
    if (remaining > 0) {
      timer = setTimeout(checkSilence, remaining);
      return;
    }
    timedOut = outputStarted ? "idle" : "first_token";
    upstream.abort(new Error(`timeout: ${timedOut}`));
  };
  let timer = setTimeout(checkSilence, firstTokenTimeoutMs);
  const markOutput = () => {
    lastActivity = performance.now();
    if (outputStarted) return;
    outputStarted = true;
    ttftMs = Math.round(lastActivity - started);
    clearTimeout(timer);
    timer = setTimeout(checkSilence, idleTimeoutMs);
  };

  let text = "";
  let reasoning = "";
  const toolCalls: LlmToolCall[] = [];
  let finishReason: LlmFinishReason = "other";
  let usage: LlmUsage = { promptTokens: null, completionTokens: null, cachedTokens: null };

  let reader: ReadableStreamDefaultReader<LanguageModelV3StreamPart> | undefined;
  try {
    const tools = toModelTools(options.tools);
    const { stream } = await openAiCompatible(options.provider)
      .chatModel(options.model)
      .doStream({
        prompt: toModelPrompt(options.messages),
        tools,
        toolChoice: tools ? { type: "auto" } : undefined,
        maxOutputTokens: options.maxOutputTokens,
        temperature: options.temperature,
        abortSignal: upstream.signal,
      });
    reader = stream.getReader();
    for (;;) {
      const { done, value: part } = await reader.read();
      if (done) break;
      switch (part.type) {
        case "text-delta":
          markOutput();
          text += part.delta;
          options.onTextDelta?.(part.delta);
          break;
        case "reasoning-delta":
          markOutput();
          reasoning += part.delta;
          options.onReasoningDelta?.(part.delta);
          break;
        case "tool-input-start":
          markOutput();
          break;
        case "tool-input-delta":
          lastActivity = performance.now();
          break;
        case "tool-call":
          toolCalls.push(toolCall(part.toolCallId, part.toolName, part.input));
          break;
        case "finish":
          finishReason = mapFinishReason(part.finishReason.unified);
          usage = mapUsage(part.usage);
          break;
        case "error":
          throw part.error;
      }
    }
  } catch (error) {
    if (timedOut) throw withOutputFlag(timeoutError(timedOut, firstTokenTimeoutMs, idleTimeoutMs), outputStarted);
    if (options.signal?.aborted) throw options.signal.reason;
    throw withOutputFlag(toLlmError(error, options.provider.apiKey), outputStarted);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", forwardAbort);
    // Whatever happened, nothing of this attempt may keep the upstream request open.
    upstream.abort();
    reader?.cancel().catch(() => {});
  }

  if (!text && !toolCalls.length) {
    throw new LlmError("empty_response", "The model answered with no text and no tool call");
  }
  return {
    text,
    reasoning,
    toolCalls,
    finishReason,
    usage,
    timing: { ttftMs, durationMs: Math.round(performance.now() - started) },
  };
}

/** The provider hands over a call once its fragments are joined; `input` is the exact argument text. */
function toolCall(callId: string, name: string, argsText: string): LlmToolCall {
  if (!argsText.trim()) return { callId, name, argsText, args: {} };
  try {
    return { callId, name, argsText, args: JSON.parse(argsText) };
  } catch (error) {
    return { callId, name, argsText, parseError: `arguments are not valid JSON: ${(error as Error).message}` };
  }
}

function timeoutError(phase: "first_token" | "idle", firstTokenMs: number, idleMs: number): LlmError {
  return phase === "first_token"
    ? new LlmError("timeout", `The model sent nothing within ${firstTokenMs} ms`)
    : new LlmError("timeout", `The model went silent for ${idleMs} ms mid-reply`);
}

function withOutputFlag(error: unknown, outputStarted: boolean): unknown {
  if (error instanceof LlmError) error.outputStarted = outputStarted;
  return error;
}

function mapFinishReason(reason: string): LlmFinishReason {
  switch (reason) {
    case "stop":
    case "length":
      return reason;
    case "tool-calls":
      return "tool_calls";
    case "content-filter":
      return "content_filter";
    default:
      return "other";
  }
}

function mapUsage(usage: LanguageModelV3Usage): LlmUsage {
  return {
    promptTokens: usage.inputTokens.total ?? null,
    completionTokens: usage.outputTokens.total ?? null,
    cachedTokens: usage.inputTokens.cacheRead ?? null,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
