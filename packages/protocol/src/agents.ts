import { z } from "zod";
import { modelResolution } from "./providers.js";
import { storableText } from "./text.js";

const requiredText = storableText({ error: (i) => (i.input === undefined ? "is required" : "must be a string") });

const agentName = requiredText
  .trim()
  .min(1, "is required")
  .max(80, "must be at most 80 characters")
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters");

/** Git URLs agents may be cloned from: https (public hosts) and file:// (the server's own disk). */
const gitUrl = requiredText
  .trim()
  .min(1, "is required")
  .max(2000, "must be at most 2000 characters")
  .regex(/^(?:https|file):\/\/\S+$/i, "must be an https:// or file:// URL");

/**
 * POST /api/agents: a new agent program, from exactly one source — a bundled `profile`, a `gitUrl` to clone, or
 * `blank: true` (a minimal program). A flat object checked for "exactly one" rather than z.discriminatedUnion:
 * the sources have no shared literal key, and the flat form keeps errors per field ("gitUrl: …").
 */
export const createAgentInput = z
  .object({
    name: agentName,
    profile: requiredText.trim().min(1, "is required").optional(),
    gitUrl: gitUrl.optional(),
    blank: z.literal(true, { error: "must be true" }).optional(),
    /** Replaces the source's description in the new agent.yml when given. */
    description: storableText({ error: "must be a string" })
      .trim()
      .max(1000, "must be at most 1000 characters")
      .optional(),
  })
  .superRefine((input, ctx) => {
    const given = (["profile", "gitUrl", "blank"] as const).filter((key) => input[key] !== undefined);
    if (given.length === 0) ctx.addIssue({ code: "custom", path: ["profile"], message: "is required" });
    for (const extra of given.slice(1)) {
      ctx.addIssue({ code: "custom", path: [extra], message: `cannot be combined with ${given[0]}` });
    }
  });
export type CreateAgentInput = z.infer<typeof createAgentInput>;

export const agentListQuery = z.object({
  q: storableText().trim().max(200, "is too long").optional(),
});

export const agentSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  /** Shipped in the app's agents/ folder (read-only) rather than created by the user. */
  bundled: z.boolean(),
  /** "bundled:<profile>", "copy:<profile>", "git:<url without credentials>" or "blank". */
  profileSource: z.string(),
  createdAt: z.string(),
});
export type AgentSummary = z.infer<typeof agentSummary>;

/** A bundled program new agents can be created from. */
export const agentProfile = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
});
export type AgentProfile = z.infer<typeof agentProfile>;

export const agentFile = z.object({
  /** Relative to the program folder, "/"-separated. */
  path: z.string(),
  content: z.string(),
});
export type AgentFile = z.infer<typeof agentFile>;

export const agentSkill = z.object({ name: z.string(), description: z.string(), path: z.string() });
export type AgentSkill = z.infer<typeof agentSkill>;

/** GET /api/agents/:id. A program that does not load still answers, with `loadError` set. */
export const agentDetail = z.object({
  agent: agentSummary,
  /** The folder on the server holding the program's files. */
  localPath: z.string(),
  /** agent.yml parsed (defaults applied); null when it does not load. */
  manifest: z.record(z.string(), z.unknown()).nullable(),
  /** agent.yml as written; null when the file is missing or unreadable. */
  manifestText: z.string().nullable(),
  /** AGENT.md, SOUL.md, USER.md, prompts/*.liquid and each skill's SKILL.md that exist, in that order. */
  files: z.array(agentFile),
  /** tools.allow from agent.yml. */
  tools: z.array(z.string()),
  /** model.prefer from agent.yml in order, each with the provider that would serve it now (null: none). */
  models: z.array(modelResolution),
  /** The account's default model, used when no preferred model resolves. */
  defaultModel: modelResolution.nullable(),
  skills: z.array(agentSkill),
  /** HEAD of the program's git repository, when its folder is one. */
  gitCommit: z.string().nullable(),
  /** Why the program does not load ("agent.yml: model.prefer: must be a list of strings"), else null. */
  loadError: z.string().nullable(),
  /** Problems that did not stop the load: unknown agent.yml keys, skipped skills. */
  warnings: z.array(z.string()),
});
export type AgentDetail = z.infer<typeof agentDetail>;
