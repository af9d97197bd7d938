import type { ApiErrorBody } from "@cybros/protocol";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import { AppError, RateLimitedError, ValidationError } from "../errors.js";
import type { Logger } from "../log.js";

export function fieldErrorsFrom(error: ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    fields[key] ??= issue.message;
  }
  return fields;
}

function body(code: string, message: string, extra: Partial<ApiErrorBody["error"]> = {}): ApiErrorBody {
  return { error: { code, message, ...extra } };
}

/** The one place errors become HTTP responses. Unknown errors are logged and answered with a bland 500. */
export function errorResponder(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof ValidationError) {
      return c.json(body(error.code, error.message, { fields: error.fields }), 422);
    }
    if (error instanceof RateLimitedError) {
      c.header("Retry-After", String(error.retryAfterSeconds));
    }
    if (error instanceof AppError) {
      return c.json(
        body(error.code, error.message, error.details ? { details: error.details } : {}),
        error.status as ContentfulStatusCode,
      );
    }
    if (error instanceof ZodError) {
      return c.json(body("validation_failed", "Some fields are invalid", { fields: fieldErrorsFrom(error) }), 422);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 413 ? "payload_too_large" : status === 400 ? "bad_request" : "http_error";
      const message = status === 413 ? "The request body is too large" : error.message || "Bad request";
      return c.json(body(code, message), status as ContentfulStatusCode);
    }
    log.error({ err: error, method: c.req.method, path: c.req.path }, "unhandled error");
    return c.json(body("internal_error", "Something went wrong on the server"), 500);
  };
}
