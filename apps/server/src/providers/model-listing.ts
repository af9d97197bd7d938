import { isEmbeddingModel, type ModelListingResult, type modelListingInput } from "@cybros/protocol";
import type { z } from "zod";
import type { Account } from "../current.js";
import type { Services } from "../services.js";
import { reachableBaseUrl } from "./base-url.js";
import { apiKeyOf, findProvider, headersOf, requireSecretsRetyped } from "./index.js";

export const MODEL_LISTING_TIMEOUT_MS = 10_000;

/** Where and how to call a provider: an absolute base URL, the plaintext key, extra headers. */
export interface ProviderTarget {
  baseUrl: string;
  apiKey: string | null;
  headers: Record<string, string>;
}

function requestHeaders(target: ProviderTarget): Headers {
  const headers = new Headers(target.headers);
  headers.set("accept", "application/json");
  if (target.apiKey) headers.set("authorization", `Bearer ${target.apiKey}`);
  return headers;
}

/**
 * Fetch Models with the form's values as submitted. A blank key and omitted headers fall back to the saved
 * provider's when the form names one and its base URL is unchanged, so a key can be tried before saving and need
 * not be retyped when editing; a changed URL must bring its own (`requireSecretsRetyped`).
 */
export async function fetchModels(
  services: Services,
  account: Account,
  input: z.output<typeof modelListingInput>,
  options: { timeoutMs?: number } = {},
): Promise<ModelListingResult> {
  let apiKey = input.apiKey ?? null;
  let headers = input.headers;
  if (input.providerId) {
    const provider = await findProvider(services.db, account, input.providerId);
    requireSecretsRetyped(provider, input.baseUrl, { apiKey: apiKey ?? undefined, headers });
    apiKey ??= apiKeyOf(services, provider);
    headers ??= headersOf(services, provider);
  }
  const baseUrl = reachableBaseUrl(services, input.baseUrl);
  return listModels({ baseUrl, apiKey, headers: headers ?? {} }, options);
}

/** `GET {baseUrl}/models`; every way it can fail becomes a result with a message the form can show. */
export async function listModels(
  target: ProviderTarget,
  { timeoutMs = MODEL_LISTING_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<ModelListingResult> {
  const redact = secretRedactor(target);
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${target.baseUrl}/models`, {
      headers: requestHeaders(target),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError") {
      return {
        ok: false,
        code: "timeout",
        message: `Request timed out: no answer to GET /models within ${seconds(timeoutMs)}`,
      };
    }
    return {
      ok: false,
      code: "connection_failed",
      message: redact(`Connection failed: ${describeNetworkError(error)}`),
    };
  }

  if (response.status === 404 || response.status === 405) {
    return {
      ok: false,
      code: "unsupported",
      status: response.status,
      message: `This provider does not list its models (HTTP ${response.status} for GET /models); type the model ids instead`,
    };
  }
  if (!response.ok) {
    const detail = upstreamErrorMessage(text, response) || response.statusText;
    const message = redact(`HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
    return { ok: false, code: "http_error", status: response.status, message };
  }
  const listed = modelsFrom(text);
  if (!listed) {
    return {
      ok: false,
      code: "unsupported",
      status: response.status,
      message: "The provider answered GET /models with something other than a model list; type the model ids instead",
    };
  }
  return { ok: true, ...listed };
}

type ListedModel = { id?: unknown; type?: unknown; model_type?: unknown; task?: unknown } | null;

/**
 * OpenAI's shape, `{"data": [{"id": "…"}, …]}`; ids deduplicated and sorted for the picker, embedding models apart:
 * by id, or by the type some servers add (LM Studio's `type: "embeddings"`, `task`, `model_type`).
 */
function modelsFrom(text: string): { models: string[]; embeddingModels: string[] } | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return null;
  const entries = (data as ListedModel[]).filter((entry) => typeof entry?.id === "string");
  if (data.length > 0 && entries.length === 0) return null;
  const models = new Set<string>();
  const embeddingModels = new Set<string>();
  for (const entry of entries) {
    const id = entry!.id as string;
    const declared = [entry!.type, entry!.model_type, entry!.task].some(
      (v) => typeof v === "string" && /embed/i.test(v),
    );
    (declared || isEmbeddingModel(id) ? embeddingModels : models).add(id);
  }
  return { models: [...models].sort(), embeddingModels: [...embeddingModels].sort() };
}

const MAX_DETAIL = 300;

/** The provider's own words when it sends an OpenAI-style error body or short plain text; never HTML pages. */
function upstreamErrorMessage(text: string, response: Response): string {
  let detail = "";
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    const candidate = typeof error === "string" ? error : (error?.message ?? body.message ?? body.detail);
    if (typeof candidate === "string") detail = candidate;
  } catch {
    if (!(response.headers.get("content-type") ?? "").includes("html")) detail = text;
  }
  detail = detail.replace(/\s+/g, " ").trim();
  return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail;
}

function describeNetworkError(error: unknown): string {
  // undici reports "fetch failed" and puts the socket error (ECONNREFUSED, ENOTFOUND, …) in `cause`.
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return (error as Error).message || String(error);
}

/** Providers sometimes echo the key back ("Incorrect API key provided: sk-…"); it must not reach the browser. */
function secretRedactor(target: ProviderTarget): (message: string) => string {
  const secrets = [target.apiKey, ...Object.values(target.headers)].filter(
    (s): s is string => typeof s === "string" && s.length >= 8,
  );
  return (message) => secrets.reduce((m, secret) => m.split(secret).join("[redacted]"), message);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
