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

/** One file of an agent's folder (.git left out). */
export const agentFileEntry = z.object({ path: z.string(), size: z.number() });

/** GET /api/agents/:id/files. `editable` is false for bundled agents: a copy is edited instead. */
export const agentFileList = z.object({ files: z.array(agentFileEntry), editable: z.boolean() });
export type AgentFileList = z.infer<typeof agentFileList>;

/** GET /api/agents/:id/files/*path. `content` is null for a binary file. */
export const agentFileContent = z.object({ path: z.string(), content: z.string().nullable(), editable: z.boolean() });
export type AgentFileContent = z.infer<typeof agentFileContent>;

const commitMessage = storableText({ error: "must be a string" }).trim().max(2000, "must be at most 2000 characters");

/** PUT /api/agents/:id/files/*path: validated, then committed with `message` (default "Edit <path>"). */
export const saveAgentFileInput = z.object({
  content: storableText({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).max(
    512 * 1024,
    "must be at most 512 KB",
  ),
  message: commitMessage.optional(),
});
export type SaveAgentFileInput = z.infer<typeof saveAgentFileInput>;

/** Who made a version: a person in the UI, the agent itself, a revert; `other` for commits made elsewhere. */
export const agentCommitAuthor = z.enum(["person", "agent", "revert", "other"]);
export type AgentCommitAuthor = z.infer<typeof agentCommitAuthor>;

export const agentCommit = z.object({
  sha: z.string(),
  subject: z.string(),
  author: agentCommitAuthor,
  /** The git author name, for commits made outside Cybros. */
  authorName: z.string(),
  committedAt: z.string(),
});
export type AgentCommit = z.infer<typeof agentCommit>;

/** GET /api/agents/:id/history: newest first. */
export const agentHistory = z.object({ commits: z.array(agentCommit) });
export type AgentHistory = z.infer<typeof agentHistory>;

/** GET /api/agents/:id/history/:sha: the commit and its unified diff. */
export const agentCommitDiff = z.object({ commit: agentCommit, diff: z.string(), truncated: z.boolean() });
export type AgentCommitDiff = z.infer<typeof agentCommitDiff>;

export const agentChange = z.object({
  path: z.string(),
  change: z.enum(["modified", "added", "deleted"]),
});

/** GET /api/agents/:id/status: changes on disk not yet committed, and the version they sit on. */
export const agentStatus = z.object({ head: z.string().nullable(), changes: z.array(agentChange) });
export type AgentStatus = z.infer<typeof agentStatus>;

/** POST /api/agents/:id/commits: commit every change on disk. */
export const commitAgentChangesInput = z.object({
  message: commitMessage.min(1, "is required"),
});

/** POST /api/agents/:id/reverts: undo one commit with a new commit. */
export const revertAgentCommitInput = z.object({
  commit: z.string({ error: "is required" }).regex(/^[0-9a-f]{7,64}$/, "must be a commit id"),
});

/** The answer of a save, a commit or a revert: the new version (null when nothing changed). */
export const agentCommitResult = z.object({ commit: z.string().nullable() });
export type AgentCommitResult = z.infer<typeof agentCommitResult>;
