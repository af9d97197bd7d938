import { withRetries, withTimeout } from "./attempts.js";
import { requestCompletion } from "./chat-completions.js";
import { requestEmbeddings } from "./embeddings.js";
import type { LlmProviderTarget } from "./provider.js";

export { LlmError, type LlmErrorCode } from "./errors.js";
export type { ChatMessage, ContentPart, LlmProviderTarget, LlmTool, LlmToolCallRef } from "./provider.js";
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
const EMBED_TIMEOUT_MS = 60_000;

/**
 * A short non-streamed completion: one token proves the URL, key and model work ("Test connection"); a few name
 * a conversation. Rejects with an LlmError; a timeout is code `timeout`.
 */
export async function completeOnce(options: {
  provider: LlmProviderTarget;
  model: string;
  prompt?: string;
  /** A system message before the prompt (a health check's test turn sends the agent's own). */
  system?: string;
  /** Default 1. */
  maxOutputTokens?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<{ text: string; latencyMs: number }> {
  const started = performance.now();
  const { text } = await withTimeout(options.timeoutMs ?? PING_TIMEOUT_MS, options.signal, (signal) =>
    requestCompletion(
      {
        provider: options.provider,
        model: options.model,
        messages: [
          ...(options.system ? [{ role: "system" as const, content: options.system }] : []),
          { role: "user" as const, content: options.prompt ?? "ping" },
        ],
        maxOutputTokens: options.maxOutputTokens ?? 1,
      },
      signal,
    ),
  );
  return { text, latencyMs: Math.round(performance.now() - started) };
}

/** Embeddings through the provider's /embeddings; one vector per input, in order. Rejects with an LlmError. */
export async function embed(options: {
  provider: LlmProviderTarget;
  model: string;
  input: string | readonly string[];
  /** Asks the provider for vectors of this length (providers that support `dimensions`). */
  dimensions?: number;
  signal?: AbortSignal;
  maxRetries?: number;
  /** First backoff; each retry doubles it. */
  retryBaseDelayMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}): Promise<{ embeddings: number[][]; tokens: number | null }> {
  const input = typeof options.input === "string" ? [options.input] : [...options.input];
  if (!input.length) return { embeddings: [], tokens: 0 };
  const { value } = await withRetries(
    () =>
      withTimeout(options.timeoutMs ?? EMBED_TIMEOUT_MS, options.signal, (signal) =>
        requestEmbeddings(
          { provider: options.provider, model: options.model, input, dimensions: options.dimensions },
          signal,
        ),
      ),
    { maxRetries: options.maxRetries ?? 2, baseDelayMs: options.retryBaseDelayMs ?? 1_000, signal: options.signal },
  );
  return value;
}
