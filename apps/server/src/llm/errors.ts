import { type RunErrorCode, toStorableText } from "@cybros/protocol";

/** The run error codes the LLM client (and model resolution) can produce. */
export type LlmErrorCode = Extract<
  RunErrorCode,
  | "timeout"
  | "connection_error"
  | "http_error"
  | "rate_limited"
  | "auth_failed"
  | "context_too_long"
  | "empty_response"
  | "invalid_response"
  | "no_provider_for_model"
>;

/**
 * A provider call that failed, with a stable code the UI words for people. `status` is the provider's HTTP
 * status when there was one. `retryable` says whether trying again could help (the client only retries
 * before any output arrived).
 */
export class LlmError extends Error {
  readonly code: LlmErrorCode;
  readonly status?: number;
  readonly retryable: boolean;
  /** From the provider's Retry-After header, when it sent one. */
  readonly retryAfterMs?: number;
  /** Output had reached the caller before the failure (so the call was not retried). */
  outputStarted = false;
  /** Attempts made, retries included. */
  attempts = 1;

  constructor(
    code: LlmErrorCode,
    message: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    // Provider words end up in the run's stored error.
    super(toStorableText(message), { cause: options.cause });
    this.name = "LlmError";
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

const CONTEXT_TOO_LONG =
  /context_length_exceeded|context length|context window|maximum context|too many tokens|prompt is too long|reduce the length/i;

/** A request that got no answer, or whose answer broke off: worth retrying while nothing was output. */
export function connectionError(what: string, cause?: unknown): LlmError {
  const detail = cause === undefined ? undefined : (networkCause(cause) ?? (cause as Error).message);
  return new LlmError("connection_error", detail ? `${what}: ${detail}` : what, { retryable: true, cause });
}

/** A provider's HTTP error status as a code people can act on; `detail` is what the provider said. */
export function httpStatusError(options: {
  status: number;
  detail: string;
  body?: string;
  retryAfter?: string | string[];
  apiKey?: string | null;
  cause?: unknown;
}): LlmError {
  const { status, cause } = options;
  const detail = redact(options.detail, options.apiKey);
  if (status === 401 || status === 403) {
    return new LlmError("auth_failed", `The provider refused the credentials (HTTP ${status}): ${detail}`, {
      status,
      cause,
    });
  }
  if (status === 429) {
    const header = Array.isArray(options.retryAfter) ? options.retryAfter[0] : options.retryAfter;
    return new LlmError("rate_limited", `The provider is rate limiting (HTTP 429): ${detail}`, {
      status,
      retryable: true,
      retryAfterMs: retryAfterMs(header),
      cause,
    });
  }
  if (
    (status === 400 || status === 413 || status === 422) &&
    CONTEXT_TOO_LONG.test(`${options.detail} ${options.body ?? ""}`)
  ) {
    return new LlmError("context_too_long", `The prompt is too long for this model (HTTP ${status}): ${detail}`, {
      status,
      cause,
    });
  }
  return new LlmError("http_error", `The provider answered HTTP ${status}: ${detail}`, {
    status,
    retryable: status >= 500 || status === 408,
    cause,
  });
}

function redact(text: string, apiKey: string | null | undefined): string {
  return apiKey ? text.split(apiKey).join("[redacted]") : text;
}

/** The innermost cause's message ("other side closed"), which says more than its wrappers. */
function networkCause(error: unknown): string | undefined {
  let cause = (error as { cause?: unknown }).cause;
  let message: string | undefined;
  while (cause instanceof Error) {
    message = cause.message;
    cause = cause.cause;
  }
  return message;
}

const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}
