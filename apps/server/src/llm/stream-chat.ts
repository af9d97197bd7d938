import { withRetries } from "./attempts.js";
import { streamCompletion, type WireUsage } from "./chat-completions.js";
import { LlmError } from "./errors.js";
import type { ChatMessage, LlmProviderTarget, LlmTool } from "./provider.js";

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

/**
 * One streamed chat completion (chat-completions.ts speaks the wire protocol), with the tool loop left to the
 * caller. Retries happen only before the first output, so a caller never sees text twice. Rejects with an
 * LlmError, or with the signal's reason when the caller aborted.
 */
export async function streamChat(options: StreamChatOptions): Promise<ChatResult> {
  const started = performance.now();
  const { value, attempts } = await withRetries(() => attemptStream(options, started), {
    maxRetries: options.maxRetries ?? STREAM_DEFAULTS.maxRetries,
    baseDelayMs: options.retryBaseDelayMs ?? STREAM_DEFAULTS.retryBaseDelayMs,
    signal: options.signal,
    onRetry: options.onRetry,
  });
  return { ...value, attempts };
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
  let toolCalls: LlmToolCall[] = [];
  let finishReason: LlmFinishReason;
  let usage: LlmUsage;

  try {
    const outcome = await streamCompletion(
      options,
      {
        onText: (delta) => {
          markOutput();
          text += delta;
          options.onTextDelta?.(delta);
        },
        onReasoning: (delta) => {
          markOutput();
          reasoning += delta;
          options.onReasoningDelta?.(delta);
        },
        onToolCallStart: markOutput,
        onChunk: () => {
          lastActivity = performance.now();
        },
      },
      upstream.signal,
    );
    toolCalls = outcome.toolCalls.map((call) => toolCall(call.callId, call.name, call.argsText));
    finishReason = mapFinishReason(outcome.finishReason, outcome.refused);
    usage = mapUsage(outcome.usage);
  } catch (error) {
    if (timedOut) throw withOutputFlag(timeoutError(timedOut, firstTokenTimeoutMs, idleTimeoutMs), outputStarted);
    if (options.signal?.aborted) throw options.signal.reason;
    throw withOutputFlag(error, outputStarted);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", forwardAbort);
    // Whatever happened, nothing of this attempt may keep the upstream request open.
    upstream.abort();
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

function mapFinishReason(reason: string | undefined, refused: boolean): LlmFinishReason {
  switch (reason) {
    case "stop":
      return refused ? "content_filter" : "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}

/** A provider that sent usage without a cache figure cached nothing; one that sent no usage told us nothing. */
function mapUsage(usage: WireUsage | undefined): LlmUsage {
  if (!usage) return { promptTokens: null, completionTokens: null, cachedTokens: null };
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}
