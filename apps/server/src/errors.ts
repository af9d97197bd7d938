/**
 * The closed set of errors the API reports. Each maps to one HTTP status in http/errors.ts;
 * internal causes are logged, never sent to the client.
 */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(
    readonly fields: FieldErrors,
    message = "Some fields are invalid",
  ) {
    super("validation_failed", message, 422, { fields });
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super("unsupported_media_type", "The request body must be JSON, sent with Content-Type: application/json", 415);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Sign in to continue", code = "unauthorized") {
    super(code, message, 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You cannot do that", code = "forbidden") {
    super(code, message, 403);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super("not_found", `${what} not found`, 404);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, 409, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super("rate_limited", "Too many attempts; try again later", 429, { retryAfterSeconds });
  }
}

/** Something fetched on the person's behalf could not be served: refused address (403), too large (413), wrong type
 * (415), or the other server failed (502). */
export class RemoteResourceError extends AppError {
  constructor(code: string, message: string, status: 403 | 413 | 415 | 502) {
    super(code, message, status);
  }
}
