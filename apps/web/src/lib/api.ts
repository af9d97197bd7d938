import { apiErrorBody } from "@cybros/protocol";

/** An error answered by the API (or a failure to reach it), with per-field messages for inline form errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** True when the error is about the user's input (422 with fields). */
  get hasFields(): boolean {
    return Object.keys(this.fields).length > 0;
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: "The request was not understood",
  401: "Sign in to continue",
  403: "You cannot do that",
  404: "Not found",
  409: "That conflicts with something that already exists",
  413: "That is too large",
  422: "Some fields are invalid",
  429: "Too many attempts; try again later",
};

/** Maps a failed response to an ApiError, reading the `{error: {code, message, fields}}` body when there is one. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): fall back to the status.
  }
  const parsed = apiErrorBody.safeParse(body);
  if (parsed.success) {
    const { code, message, fields, details } = parsed.data.error;
    return new ApiError(response.status, code, message, fields ?? {}, details ?? {});
  }
  const message =
    FALLBACK_MESSAGES[response.status] ??
    (response.status >= 500 ? "Something went wrong on the server" : `Request failed (${response.status})`);
  return new ApiError(response.status, response.status >= 500 ? "server_error" : "http_error", message);
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** The session's CSRF token (from GET /api/session), sent with every write. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the API answers 401 (the session ended): the app refreshes its session state and routes to login. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export async function request<T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "Could not reach the server. Check your connection and try again.");
  }
  if (!response.ok) {
    const error = await errorFromResponse(response);
    if (error.status === 401 && path !== "/api/session") onUnauthorized?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, body ?? {}),
  delete: <T = void>(path: string) => request<T>("DELETE", path),
};

/** Builds a query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The message to show for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong";
}

/** The per-field messages of a failed form submit (empty when the error is not about fields). */
export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fields : {};
}

/**
 * The message to show above a form: the error's own message when no field can show it (a conflict, a network
 * failure, a field the form does not have), else null because the fields say it inline.
 */
export function formError(error: unknown, shownFields: readonly string[]): string | null {
  if (!error) return null;
  if (!(error instanceof ApiError) || !error.hasFields) return errorMessage(error);
  const unshown = Object.entries(error.fields).filter(([field]) => !shownFields.includes(field));
  if (unshown.length === 0) return null;
  return unshown.map(([field, message]) => (field === "_" ? message : `${field} ${message}`)).join("; ");
}
