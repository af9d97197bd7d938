import { z } from "zod";
import { storableText } from "./text.js";

/** The web_search backend as stored and shown: keys are never here, only whether one is set. */
export const webSearchSettings = z.discriminatedUnion("backend", [
  z.object({ backend: z.literal("none") }),
  z.object({ backend: z.literal("searxng"), url: z.url("must be a URL") }),
  z.object({ backend: z.literal("brave"), apiKeySet: z.boolean().optional() }),
  z.object({ backend: z.literal("tavily"), apiKeySet: z.boolean().optional() }),
]);
export type WebSearchSettings = z.infer<typeof webSearchSettings>;

const apiKeyInput = storableText().trim().min(1, "must not be empty").max(500).optional();

/**
 * What System settings sends to choose the backend. `apiKey` is write-only: stored encrypted, never answered;
 * omit it to keep the key already stored for that backend.
 */
export const webSearchInput = z.discriminatedUnion("backend", [
  z.object({ backend: z.literal("none") }),
  z.object({ backend: z.literal("searxng"), url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }) }),
  z.object({ backend: z.literal("brave"), apiKey: apiKeyInput }),
  z.object({ backend: z.literal("tavily"), apiKey: apiKeyInput }),
]);
export type WebSearchInput = z.infer<typeof webSearchInput>;

/** Account-wide settings stored as JSONB. Unknown keys are dropped; missing ones take defaults. */
export const accountSettings = z.object({
  defaultModel: z.string().trim().min(1).nullable().default(null),
  /** The model memory embeds with (resolved like any model); null stores memory unembedded, searched by words. */
  embeddingModel: z.string().trim().min(1).nullable().default(null),
  webSearch: webSearchSettings.default({ backend: "none" }),
  webFetchAllowlist: z.array(z.string().trim().min(1)).default([]),
  features: z.record(z.string(), z.boolean()).default({}),
});
export type AccountSettings = z.infer<typeof accountSettings>;

const modelId = storableText().trim().min(1, "must not be empty").max(200, "is too long");

/**
 * PATCH /api/account/settings: only the keys sent change. Models are ids (a provider's allowlist decides who
 * serves them); null clears. Web search keys are write-only (see webSearchInput).
 */
export const accountSettingsInput = z.object({
  defaultModel: modelId.nullable().optional(),
  embeddingModel: modelId.nullable().optional(),
  webSearch: webSearchInput.optional(),
  webFetchAllowlist: z
    .array(storableText().trim().min(1, "must not be empty").max(255, "is too long"))
    .max(100, "lists at most 100 hosts")
    .optional(),
  features: z.record(storableText().max(100), z.boolean({ error: "must be true or false" })).optional(),
});
export type AccountSettingsInput = z.input<typeof accountSettingsInput>;
