import { z } from "zod";
import { isStorableText, storableText, UNSTORABLE_TEXT_MESSAGE } from "./text.js";

/**
 * A base URL on this Cybros server itself (the built-in mock LLM). Stored as a path so it survives port changes
 * and random test ports; the server turns it into its own live address when it calls it.
 */
export const SERVER_RELATIVE_BASE_PATH = "/mock_llm/";

export const MOCK_PROVIDER_BASE_URL = "/mock_llm/v1";

// The protocol package runs without DOM or Node types, so zod's URL check stands in for `new URL`.
const httpUrl = z.url({ protocol: /^https?$/, hostname: /^.+$/ });

export const providerBaseUrl = storableText()
  .trim()
  .min(1, "is required")
  .max(2048, "is too long")
  .refine((v) => httpUrl.safeParse(v).success || v.startsWith(SERVER_RELATIVE_BASE_PATH), {
    message: `must be an http:// or https:// URL (or a path under ${SERVER_RELATIVE_BASE_PATH} on this server)`,
  })
  // Requests append "/models" and "/chat/completions"; a trailing slash would double it.
  .transform((v) => v.replace(/\/+$/, ""));

export const providerName = storableText().trim().min(1, "is required").max(100, "is too long");

export const apiFormat = z.enum(["openai"], { error: 'must be "openai" (the only format supported for now)' });
export type ApiFormat = z.infer<typeof apiFormat>;

/** An HTTP header name is an RFC 9110 token; anything else would make the request itself fail. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Extra request headers. The web form sends the JSON text of its textarea; API clients may send an object.
 * Blank text means no headers. Errors name the offending header: `headers.X-Foo: must be a string`.
 */
export const providerHeaders = z.unknown().transform((value, ctx): Record<string, string> => {
  let parsed = value;
  if (typeof value === "string") {
    if (value.trim() === "") return {};
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    ctx.addIssue({
      code: "custom",
      message: 'must be a JSON object of header names to values, like {"X-Title": "Cybros"}',
    });
    return z.NEVER;
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(parsed)) {
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: "custom", message: "is not a valid header name", path: [name] });
    } else if (typeof headerValue !== "string") {
      ctx.addIssue({ code: "custom", message: "must be a string", path: [name] });
    } else if (/[\r\n]/.test(headerValue)) {
      ctx.addIssue({ code: "custom", message: "must not contain line breaks", path: [name] });
    } else if (!isStorableText(headerValue)) {
      ctx.addIssue({ code: "custom", message: UNSTORABLE_TEXT_MESSAGE, path: [name] });
    } else {
      headers[name] = headerValue;
    }
  }
  return headers;
});

/** Model ids, as a list or as text separated by commas or line breaks; blanks and repeats are dropped. */
export const modelAllowlist = z
  .union([z.array(storableText({ error: "must list model ids as text" })), storableText()], {
    error: "must be a list of model ids",
  })
  .transform((value) => {
    const items = typeof value === "string" ? value.split(/[,\n]/) : value;
    return [...new Set(items.map((m) => m.trim()).filter((m) => m !== ""))];
  })
  .pipe(z.array(z.string().max(200, "has a model id that is too long")).min(1, "must list at least one model"));

/** The allowed models that accept images (a subset of the allowlist): as a list, or text like the allowlist. */
export const imageModels = z
  .union([z.array(storableText({ error: "must list model ids as text" })), storableText()], {
    error: "must be a list of model ids",
  })
  .transform((value) => {
    const items = typeof value === "string" ? value.split(/[,\n]/) : value;
    return [...new Set(items.map((m) => m.trim()).filter((m) => m !== ""))];
  });

/** The image models that the allowlist does not list, for the error that names them. */
export function imageModelsNotAllowed(imageModels: readonly string[], allowlist: readonly string[]): string[] {
  return imageModels.filter((model) => !allowlist.includes(model));
}

export const IMAGE_MODELS_NOT_ALLOWED = "must be models of the allowlist; not allowed: ";

export const providerPriority = z
  .number({ error: "must be a whole number" })
  .int("must be a whole number")
  .min(-1_000_000, "is too small")
  .max(1_000_000, "is too large");

/** omitted = keep the stored key (update only), null or "" = no key, text = the new key. */
export const providerApiKey = storableText({ error: "must be text" })
  .max(4096, "is too long")
  .nullable()
  .transform((v) => (v === null || v.trim() === "" ? null : v.trim()));

export const providerCreateInput = z
  .object({
    name: providerName,
    baseUrl: providerBaseUrl,
    apiKey: providerApiKey.optional(),
    apiFormat: apiFormat.default("openai"),
    headers: providerHeaders.optional().transform((v) => v ?? {}),
    modelAllowlist,
    imageModels: imageModels.default([]),
    priority: providerPriority.default(0),
    enabled: z.boolean({ error: "must be true or false" }).default(true),
  })
  .superRefine((input, ctx) => {
    if (!Array.isArray(input.imageModels) || !Array.isArray(input.modelAllowlist)) return;
    const stray = imageModelsNotAllowed(input.imageModels, input.modelAllowlist);
    if (stray.length)
      ctx.addIssue({ code: "custom", path: ["imageModels"], message: IMAGE_MODELS_NOT_ALLOWED + stray.join(", ") });
  });
export type ProviderCreateInput = z.input<typeof providerCreateInput>;
export type ProviderCreate = z.output<typeof providerCreateInput>;

/**
 * Every field optional; `apiKey` omitted keeps the stored key, `headers` omitted keeps the stored headers (given,
 * they replace them all). A new `baseUrl` needs the key and headers sent again when some are stored.
 */
export const providerUpdateInput = z.object({
  name: providerName.optional(),
  baseUrl: providerBaseUrl.optional(),
  apiKey: providerApiKey.optional(),
  apiFormat: apiFormat.optional(),
  headers: providerHeaders.optional(),
  modelAllowlist: modelAllowlist.optional(),
  /** Given, replaces the list; omitted with a new allowlist, keeps those the new allowlist still lists. */
  imageModels: imageModels.optional(),
  priority: providerPriority.optional(),
  enabled: z.boolean({ error: "must be true or false" }).optional(),
});
export type ProviderUpdateInput = z.input<typeof providerUpdateInput>;
export type ProviderUpdate = z.output<typeof providerUpdateInput>;

export const connectionCheck = z.object({
  ok: z.boolean(),
  message: z.string(),
  checkedAt: z.string(),
});
export type ConnectionCheck = z.infer<typeof connectionCheck>;

/**
 * What the browser sees of a provider: the key and header values never leave the server, only whether a key is
 * set and which headers have a value.
 */
export const providerView = z.object({
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  apiFormat,
  apiKeySet: z.boolean(),
  /** Names of the extra headers sent; their values are secrets, like the key. */
  headersSet: z.array(z.string()),
  modelAllowlist: z.array(z.string()),
  /** The allowed models that accept images: tool screenshots are put in their prompts. */
  imageModels: z.array(z.string()),
  priority: z.number(),
  enabled: z.boolean(),
  lastCheck: connectionCheck.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ProviderView = z.infer<typeof providerView>;

/**
 * Fetch Models, with the form's possibly unsaved values. When `providerId` names a saved provider and the base URL
 * is the one it was saved with, a key left empty and headers omitted mean its stored ones, so editing a provider
 * does not mean retyping them; with another base URL they must be sent (a 422 names the missing field).
 */
export const modelListingInput = z.object({
  baseUrl: providerBaseUrl,
  apiKey: providerApiKey.optional(),
  headers: providerHeaders.optional(),
  providerId: z.uuid("is not a provider id").optional(),
});
export type ModelListingInput = z.input<typeof modelListingInput>;

/**
 * Whether a model id names an embedding model rather than a chat model ("text-embedding-3-small",
 * "nomic-embed-text", "bge-m3", "mock-embedding"): listings rarely say which is which, ids almost always do.
 */
export function isEmbeddingModel(id: string): boolean {
  return /embed|(^|[/:_-])(bge|e5|gte)([/:_-]|$)/i.test(id);
}

export const modelListingFailureCode = z.enum(["http_error", "connection_failed", "timeout", "unsupported"]);

/** Upstream failures are results, not errors of this API: the form shows `message` beside the button. */
export const modelListingResult = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    /** Chat models: what Fetch Models offers for the allowlist. */
    models: z.array(z.string()),
    /** Embedding models the provider also listed (see `isEmbeddingModel`): for memory, never added on their own. */
    embeddingModels: z.array(z.string()),
  }),
  z.object({
    ok: z.literal(false),
    code: modelListingFailureCode,
    status: z.number().optional(),
    message: z.string(),
  }),
]);
export type ModelListingResult = z.infer<typeof modelListingResult>;

/** Which provider would serve a model now; null when no enabled provider allows it. */
export const modelResolution = z.object({
  model: z.string(),
  provider: z.object({ id: z.string(), name: z.string() }).nullable(),
});
export type ModelResolution = z.infer<typeof modelResolution>;

export const modelResolutionList = z.object({
  resolutions: z.array(modelResolution),
  /** The account's default model and who serves it: the fallback for agents whose preferences all miss. */
  defaultModel: modelResolution.nullable(),
});
export type ModelResolutionList = z.infer<typeof modelResolutionList>;
