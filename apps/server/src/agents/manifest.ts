import YAML from "yaml";
import { z } from "zod";
import { AgentProgramError } from "./errors.js";

export const MANIFEST_FILE = "agent.yml";

const text = (what = "a string") =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : `must be ${what}`) });

// One message at the list's own path ("model.prefer: …") rather than one per bad element.
const stringList = () =>
  z
    .custom<string[]>((v) => Array.isArray(v) && v.every((s) => typeof s === "string" && s.trim() !== ""), {
      error: "must be a list of strings",
    })
    .transform((list) => list.map((s) => s.trim()));

const toolName = /^[a-z][a-z0-9_]*$/;
/** A custom tool's name: also its file names under tools/. */
export const customToolName = /^[a-z][a-z0-9_]{0,63}$/;
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 30;

/**
 * agent.yml. Typed keys are strict about their values; unknown keys are tolerated (the roadmap adds more) and
 * reported as warnings, so a typo like `tools.alow` is visible instead of silently leaving the agent toolless.
 * `strict` only changes how unknown keys are treated.
 */
function manifestSchema(strict: boolean) {
  const object = strict ? z.strictObject : z.looseObject;
  return object({
    name: text().trim().min(1, "must not be empty").max(80, "must be at most 80 characters"),
    description: text().trim().max(1000, "must be at most 1000 characters").default(""),
    model: object({ prefer: stringList().default([]) }, { error: "must be a mapping" }).default({ prefer: [] }),
    tools: object(
      {
        allow: stringList()
          .refine((names) => names.every((n) => toolName.test(n)), "must be tool names like memory_search")
          .default([]),
        // Agent-defined tools offered with the allowed ones: tools/<name>.yml plus an executable tools/<name>.*.
        custom: stringList()
          .refine((names) => names.every((n) => customToolName.test(n)), "must be tool names like roll_dice")
          .default([]),
        // Tools whose every call waits for a person's approval before it runs.
        approval: stringList()
          .refine((names) => names.every((n) => toolName.test(n)), "must be tool names like memory_search")
          .default([]),
      },
      { error: "must be a mapping" },
    ).default({ allow: [], custom: [], approval: [] }),
    // Phase 2: personas/<name>/ folders and how the active one is chosen.
    personas: object(
      {
        default: text().trim().min(1).optional(),
        available: stringList().default([]),
        router: z.enum(["auto", "explicit", "hook"], { error: "must be auto, explicit or hook" }).default("explicit"),
      },
      { error: "must be a mapping" },
    ).optional(),
    // Executables in the agent's folder, run as directives on the local territory (runs/steps/hooks.ts).
    hooks: object(
      {
        before_inference: text("a path").optional(),
        after_tool_call: text("a path").optional(),
        on_conversation_start: text("a path").optional(),
        /** How long each hook may run before the turn goes on without it. */
        timeout_seconds: z
          .number({ error: "must be a number of seconds" })
          .int("must be a whole number of seconds")
          .min(1, "must be at least 1")
          .max(300, "must be at most 300")
          .default(DEFAULT_HOOK_TIMEOUT_SECONDS),
      },
      { error: "must be a mapping" },
    ).optional(),
    capabilities: object(
      {
        self_modify: z.boolean({ error: "must be true or false" }).default(false),
        spawn_subagents: z.boolean({ error: "must be true or false" }).default(false),
      },
      { error: "must be a mapping" },
    ).optional(),
    /** Defaults for the template's `args`; an AgentProgram row's args override them. */
    args: z.record(z.string(), z.unknown(), { error: "must be a mapping" }).default({}),
  });
}

const looseManifest = manifestSchema(false);
const strictManifest = manifestSchema(true);

export type AgentManifest = z.infer<typeof looseManifest>;

function fieldPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".") || "(top level)";
}

export function parseYaml(source: string): YAML.Document {
  return YAML.parseDocument(source, { prettyErrors: true, uniqueKeys: true });
}

/** A YAML document's first syntax error as "line 3: reason", or null when it parsed. */
export function yamlSyntaxError(document: YAML.Document): string | null {
  const [error] = document.errors;
  if (!error) return null;
  const line = error.linePos?.[0]?.line;
  const reason = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return line ? `line ${line}: ${reason}` : reason;
}

/** Parses agent.yml text; errors name the file and the field. Answers the manifest and warnings. */
export function parseManifest(source: string): { manifest: AgentManifest; warnings: string[] } {
  const document = parseYaml(source);
  const yamlError = yamlSyntaxError(document);
  if (yamlError) throw new AgentProgramError(yamlError, { file: MANIFEST_FILE });
  const raw = document.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new AgentProgramError("must be a mapping of keys to values", { file: MANIFEST_FILE });
  }
  const parsed = looseManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AgentProgramError(issue.message, { file: MANIFEST_FILE, field: fieldPath(issue.path) });
  }
  const warnings: string[] = [];
  const strict = strictManifest.safeParse(raw);
  for (const issue of strict.success ? [] : strict.error.issues) {
    if (issue.code !== "unrecognized_keys") continue;
    for (const key of issue.keys) {
      warnings.push(`${MANIFEST_FILE}: ${fieldPath([...issue.path, key])}: unknown key, ignored`);
    }
  }
  return { manifest: parsed.data, warnings };
}

/** Rewrites name (and description) in agent.yml text, keeping comments and layout. */
export function renameManifest(source: string, name: string, description?: string): string {
  const document = YAML.parseDocument(source);
  document.set("name", name);
  if (description !== undefined) document.set("description", description);
  return document.toString();
}
