import { LlmError } from "./errors.js";

const MAX_BACKOFF_MS = 30_000;

export interface RetryOptions {
  maxRetries: number;
  /** First backoff; each retry doubles it (a provider's Retry-After wins when longer). */
  baseDelayMs: number;
  signal?: AbortSignal;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: LlmError }) => void;
}

/**
 * Calls `attempt` until it succeeds or fails for good: only a retryable LlmError before any output is tried again
 * (429, 5xx, no answer). Rejects with the last LlmError, its `attempts` set, or with the signal's reason.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    options.signal?.throwIfAborted();
    try {
      return { value: await attempt(), attempts };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!(error instanceof LlmError)) throw error;
      error.attempts = attempts;
      if (error.outputStarted || !error.retryable || attempts > options.maxRetries) throw error;
      const delayMs = Math.min(
        Math.max(options.baseDelayMs * 2 ** (attempts - 1), error.retryAfterMs ?? 0),
        MAX_BACKOFF_MS,
      );
      options.onRetry?.({ attempt: attempts, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * Calls `call` with a signal that also aborts after `timeoutMs`. Past it, rejects with LlmError `timeout`; when the
 * caller's own signal aborted, with its reason.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await call(signal ? AbortSignal.any([signal, timeout]) : timeout);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) throw new LlmError("timeout", `No answer within ${timeoutMs} ms`, { cause: error });
    throw error;
  }
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
