import YAML from "yaml";
import { z } from "zod";
import { AgentProgramError } from "./errors.js";
import { listProgramFolder, type ProgramFolder, readProgramFile } from "./files.js";
import { customToolName, yamlSyntaxError } from "./manifest.js";
import { scriptCommand } from "./scripts.js";

export const CUSTOM_TOOLS_FOLDER = "tools";
export const DEFAULT_TOOL_TIMEOUT_SECONDS = 30;

/**
 * A tool the agent program defines itself: `tools/<name>.yml` (what the model reads: a description and a JSON
 * Schema for the arguments) beside one executable `tools/<name>` or `tools/<name>.<ext>` that does the work.
 */
export interface CustomToolSpec {
  name: string;
  description: string;
  /** The arguments' JSON Schema as written: what the model is offered. */
  parameters: Record<string, unknown>;
  /** The same schema as zod: arguments that do not fit are refused before the script runs. */
  schema: z.ZodType;
  timeoutSeconds: number;
  /** The definition and the executable, relative to the agent's folder. */
  file: string;
  executable: string;
  /** How the executable is started, relative to the agent's folder. */
  argv: string[];
}

const text = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : `must be ${what}`) });

const definitionSchema = z.looseObject({
  description: text("a string").trim().min(1, "must not be empty").max(4000, "must be at most 4000 characters"),
  parameters: z
    .record(z.string(), z.unknown(), { error: "must be a JSON Schema mapping" })
    .default({ type: "object", properties: {} }),
  timeout_seconds: z
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1")
    .max(600, "must be at most 600")
    .default(DEFAULT_TOOL_TIMEOUT_SECONDS),
});

/** Whether a path of the agent's folder is a custom tool's definition. */
export function isCustomToolFile(relative: string): boolean {
  return new RegExp(`^${CUSTOM_TOOLS_FOLDER}/[^/]+\\.ya?ml$`).test(relative);
}

/** Parses a tool definition's YAML; errors name the file, the field and (for YAML syntax) the line. */
export function parseCustomToolDefinition(
  source: string,
  file: string,
): Pick<CustomToolSpec, "description" | "parameters" | "schema" | "timeoutSeconds"> {
  const document = YAML.parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  const syntax = yamlSyntaxError(document);
  if (syntax) throw new AgentProgramError(syntax, { file });
  const raw = document.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new AgentProgramError("must be a mapping", { file });
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AgentProgramError(issue.message, { file, field: issue.path.join(".") || undefined });
  }
  const { description, parameters, timeout_seconds } = parsed.data;
  if (parameters.type !== "object") {
    throw new AgentProgramError("must have type: object (the arguments are one JSON object)", {
      file,
      field: "parameters.type",
    });
  }
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(parameters as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new AgentProgramError(`is not a JSON Schema this server can check: ${(error as Error).message}`, {
      file,
      field: "parameters",
    });
  }
  return { description, parameters, schema, timeoutSeconds: timeout_seconds };
}

/**
 * The custom tools agent.yml lists under `tools.custom`, read from tools/. A broken or missing one is left out
 * and its problem reported (the health check fails on it, the run goes on without it), since agents edit their
 * own tools. A definition in tools/ that agent.yml does not list is offered to nobody: a warning says so.
 */
export async function readCustomTools(
  folder: ProgramFolder,
  listed: readonly string[],
): Promise<{ tools: CustomToolSpec[]; problems: string[]; warnings: string[] }> {
  const names = await listProgramFolder(folder, CUSTOM_TOOLS_FOLDER);
  const problems: string[] = [];
  const tools: CustomToolSpec[] = [];
  const results = await Promise.all(listed.map((name) => readCustomTool(folder, names, name)));
  for (const result of results) {
    if (typeof result === "string") problems.push(result);
    else tools.push(result);
  }
  const warnings = names
    .filter((name) => /\.ya?ml$/.test(name) && !listed.includes(name.replace(/\.ya?ml$/, "")))
    .map(
      (name) => `${CUSTOM_TOOLS_FOLDER}/${name}: not listed in agent.yml tools.custom, so the model is not offered it`,
    );
  return { tools, problems, warnings };
}

async function readCustomTool(folder: ProgramFolder, names: string[], name: string): Promise<CustomToolSpec | string> {
  const file = `${CUSTOM_TOOLS_FOLDER}/${name}.yml`;
  if (!customToolName.test(name)) return `agent.yml: tools.custom: ${name}: must be a name like roll_dice`;
  let definition: ReturnType<typeof parseCustomToolDefinition> | null;
  try {
    definition = await readProgramFile(folder, file, "custom-tool", (source) =>
      parseCustomToolDefinition(source, file),
    );
  } catch (error) {
    if (error instanceof AgentProgramError) return error.message;
    throw error;
  }
  if (!definition) return `${file}: is missing (agent.yml lists ${name} under tools.custom)`;
  const executables = names.filter(
    (entry) => (entry === name || entry.startsWith(`${name}.`)) && !/\.ya?ml$/.test(entry),
  );
  if (executables.length === 0) return `${file}: has no executable beside it (${CUSTOM_TOOLS_FOLDER}/${name}.*)`;
  if (executables.length > 1) {
    return `${file}: more than one executable could be it (${executables.map((e) => `${CUSTOM_TOOLS_FOLDER}/${e}`).join(", ")})`;
  }
  const executable = `${CUSTOM_TOOLS_FOLDER}/${executables[0]}`;
  const command = await scriptCommand(folder.realPath, executable, folder.reads);
  if ("problem" in command) return command.problem;
  return { name, ...definition, file, executable, argv: command.argv };
}
