import { embedMany, generateText } from "ai";
import { LlmError, toLlmError } from "./errors.js";
import { type LlmProviderTarget, openAiCompatible, PROVIDER_OPTIONS_KEY } from "./provider.js";

export { LlmError, type LlmErrorCode, toLlmError } from "./errors.js";
export type { ChatMessage, LlmProviderTarget, LlmTool, LlmToolCallRef } from "./provider.js";
export {
  type ChatResult,
  type LlmFinishReason,
  type LlmToolCall,
  type LlmUsage,
  STREAM_DEFAULTS,
  type StreamChatOptions,
  streamChat,
} from "./stream-chat.js";

const PING_TIMEOUT_MS = 10_000;

/**
 * A short non-streamed completion: one token proves the URL, key and model work ("Test connection"); a few name
 * a conversation. Rejects with an LlmError; a timeout is code `timeout`.
 */
export async function completeOnce(options: {
  provider: LlmProviderTarget;
  model: string;
  prompt?: string;
  /** Default 1. */
  maxOutputTokens?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<{ text: string; latencyMs: number }> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? PING_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const result = await generateText({
      model: openAiCompatible(options.provider).chatModel(options.model),
      prompt: options.prompt ?? "ping",
      maxOutputTokens: options.maxOutputTokens ?? 1,
      maxRetries: 0,
      abortSignal: signal,
    });
    return { text: result.text, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      throw new LlmError("timeout", `No answer within ${options.timeoutMs ?? PING_TIMEOUT_MS} ms`, { cause: error });
    }
    throw toLlmError(error, options.provider.apiKey);
  }
}

/** Embeddings through the provider's /embeddings; one vector per input, in order. */
export async function embed(options: {
  provider: LlmProviderTarget;
  model: string;
  input: string | readonly string[];
  /** Asks the provider for vectors of this length (providers that support `dimensions`). */
  dimensions?: number;
  signal?: AbortSignal;
  maxRetries?: number;
}): Promise<{ embeddings: number[][]; tokens: number | null }> {
  const values = typeof options.input === "string" ? [options.input] : [...options.input];
  if (!values.length) return { embeddings: [], tokens: 0 };
  try {
    const result = await embedMany({
      model: openAiCompatible(options.provider).embeddingModel(options.model),
      values,
      maxRetries: options.maxRetries ?? 2,
      abortSignal: options.signal,
      providerOptions: options.dimensions
        ? { [options.provider.name ?? PROVIDER_OPTIONS_KEY]: { dimensions: options.dimensions } }
        : undefined,
    });
    return { embeddings: result.embeddings, tokens: result.usage?.tokens ?? null };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    // embedMany wraps exhausted retries in a RetryError; its last error says what went wrong.
    const last = (error as { lastError?: unknown }).lastError ?? error;
    throw toLlmError(last, options.provider.apiKey);
  }
}
