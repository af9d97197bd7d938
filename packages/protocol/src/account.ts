import { z } from "zod";

export const webSearchSettings = z.discriminatedUnion("backend", [
  z.object({ backend: z.literal("none") }),
  z.object({ backend: z.literal("searxng"), url: z.url("must be a URL") }),
  z.object({ backend: z.literal("brave"), apiKeySet: z.boolean().optional() }),
  z.object({ backend: z.literal("tavily"), apiKeySet: z.boolean().optional() }),
]);

/** Account-wide settings stored as JSONB. Unknown keys are dropped; missing ones take defaults. */
export const accountSettings = z.object({
  defaultModel: z.string().trim().min(1).nullable().default(null),
  webSearch: webSearchSettings.default({ backend: "none" }),
  webFetchAllowlist: z.array(z.string().trim().min(1)).default([]),
  features: z.record(z.string(), z.boolean()).default({}),
});
export type AccountSettings = z.infer<typeof accountSettings>;
