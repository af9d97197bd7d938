import { type CustomToolSpec, readCustomTools } from "./custom-tools.js";
import { AgentProgramError } from "./errors.js";
import { listProgramFolder, openProgramFolder, type ProgramFolder, ReadSet, readProgramFile } from "./files.js";
import { readHeadCommit } from "./git.js";
import { type AgentManifest, MANIFEST_FILE, parseManifest } from "./manifest.js";
import { PROMPTS_FOLDER, PromptTemplates, type PromptVariables, promptScope, SYSTEM_TEMPLATE_NAME } from "./prompt.js";
import { readSkillsIndex, type SkillSummary } from "./skills.js";

export const LOAD_TIMEOUT_MS = 5_000;
export const INSTRUCTION_FILES = { agent: "AGENT.md", soul: "SOUL.md", user: "USER.md" } as const;

/** An agent program as read from its folder at one moment; load again to see edits. */
export interface AgentDefinition {
  /** The folder as given, and its real path (what every file was resolved against). */
  localPath: string;
  realPath: string;
  manifest: AgentManifest;
  /** agent.yml as written. */
  manifestText: string;
  /** AGENT.md, SOUL.md, USER.md; null when the file is absent. */
  instructions: { agent: string | null; soul: string | null; user: string | null };
  /** prompts/*.liquid compiled; null without prompts/system.md.liquid. */
  templates: PromptTemplates | null;
  skills: SkillSummary[];
  /** The custom tools agent.yml lists (tools.custom) that are defined and runnable. */
  customTools: CustomToolSpec[];
  /** Why a listed custom tool is left out (missing, unparseable, nothing to run): the health check fails on them. */
  customToolProblems: string[];
  /** Things that did not stop the load but the author should fix (unknown keys, a broken skill). */
  warnings: string[];
  /** HEAD when the folder is a git repository's root: records which version of the agent produced a reply. */
  gitCommit: string | null;
}

export interface LoadOptions {
  timeoutMs?: number;
  /** Aborts the load (e.g. the run was canceled). */
  signal?: AbortSignal;
  /**
   * Only edits made before this moment (epoch ms) need to be seen, e.g. when the message being answered was sent:
   * the last load answers without a check if it, or its last check, started at or after it.
   */
  changesBefore?: number;
}

/**
 * Reads an agent program folder as it is now: edits take effect on the next load. When nothing the last load
 * read has changed, that load's definition is the answer (one round of stat calls); otherwise unchanged files
 * are still not re-read or re-parsed (files.ts). Fails with an AgentProgramError naming the file and field, or
 * when the whole load takes longer than 5 s. The definition may be shared: callers must not modify it.
 */
export async function loadAgentProgram(localPath: string, options: LoadOptions = {}): Promise<AgentDefinition> {
  return (await loadAgentProgramAsOf(localPath, options)).definition;
}

/** loadAgentProgram, with the moment (epoch ms) as of which the definition is known to show the folder. */
export async function loadAgentProgramAsOf(
  localPath: string,
  options: LoadOptions = {},
): Promise<{ definition: AgentDefinition; asOf: number }> {
  return withLoadTimeout((signal) => readProgram(localPath, signal, options.changesBefore), options);
}

/** Runs `work` with a signal that aborts on the caller's signal or after the timeout, which rejects clearly. */
export async function withLoadTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: LoadOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? LOAD_TIMEOUT_MS;
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abort, { once: true });
  if (options.signal?.aborted) abort();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      const limit = timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`;
      reject(
        new AgentProgramError(
          `loading the agent program took longer than ${limit} (is its folder on a slow or unavailable disk?)`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", abort);
  }
}

/**
 * The last load of each folder, what it read, and when it or its last check started (it showed the folder as it
 * was then, or later); bounded like the file cache (folders are few).
 */
const lastLoads = new Map<string, { definition: AgentDefinition; reads: ReadSet; checkedAt: number }>();
const MAX_LAST_LOADS = 500;

async function readProgram(
  localPath: string,
  signal: AbortSignal,
  changesBefore?: number,
): Promise<{ definition: AgentDefinition; asOf: number }> {
  // A run starts with a load: when nothing the last one read has changed, its result is still the folder's.
  const last = lastLoads.get(localPath);
  if (last && changesBefore !== undefined && last.checkedAt >= changesBefore) {
    return { definition: last.definition, asOf: last.checkedAt };
  }
  const checkStartedAt = Date.now();
  if (last && (await last.reads.unchanged())) {
    last.checkedAt = Math.max(last.checkedAt, checkStartedAt);
    return { definition: last.definition, asOf: checkStartedAt };
  }
  signal.throwIfAborted();
  const reads = new ReadSet();
  const definition = await readProgramFresh(localPath, signal, reads);
  lastLoads.delete(localPath);
  if (!reads.racy) {
    lastLoads.set(localPath, { definition, reads, checkedAt: reads.startedAt });
    if (lastLoads.size > MAX_LAST_LOADS) lastLoads.delete(lastLoads.keys().next().value!);
  }
  return { definition, asOf: reads.startedAt };
}

async function readProgramFresh(localPath: string, signal: AbortSignal, reads: ReadSet): Promise<AgentDefinition> {
  const folder = await openProgramFolder(localPath, signal, reads);
  const [manifest, agent, soul, user, templates, skillsIndex, gitCommit] = await Promise.all([
    readProgramFile(folder, MANIFEST_FILE, "manifest", (text) => ({ text, ...parseManifest(text) })),
    readProgramFile(folder, INSTRUCTION_FILES.agent, "text", (text) => text),
    readProgramFile(folder, INSTRUCTION_FILES.soul, "text", (text) => text),
    readProgramFile(folder, INSTRUCTION_FILES.user, "text", (text) => text),
    readTemplates(folder),
    readSkillsIndex(folder),
    readHeadCommit(folder.realPath, signal, reads),
  ]);
  if (!manifest) throw new AgentProgramError("is missing", { file: MANIFEST_FILE });
  const custom = await readCustomTools(folder, manifest.manifest.tools.custom);
  return {
    localPath,
    realPath: folder.realPath,
    manifest: manifest.manifest,
    manifestText: manifest.text,
    instructions: { agent, soul, user },
    templates,
    skills: skillsIndex.skills,
    customTools: custom.tools,
    customToolProblems: custom.problems,
    warnings: [
      ...manifest.warnings,
      ...skillsIndex.warnings,
      ...custom.problems.map((problem) => `${problem} (tool left out)`),
      ...custom.warnings,
    ],
    gitCommit,
  };
}

// Compiled templates per program folder, reused while every prompts/*.liquid source is unchanged.
const compiledTemplates = new Map<string, PromptTemplates>();

async function readTemplates(folder: ProgramFolder): Promise<PromptTemplates | null> {
  const names = (await listProgramFolder(folder, PROMPTS_FOLDER)).filter((name) => name.endsWith(".liquid"));
  if (!names.includes(SYSTEM_TEMPLATE_NAME)) return null;
  const texts = await Promise.all(
    names.map((name) => readProgramFile(folder, `${PROMPTS_FOLDER}/${name}`, "text", (text) => text)),
  );
  const sources: Record<string, string> = {};
  names.forEach((name, index) => {
    if (texts[index] !== null) sources[name] = texts[index]!;
  });
  const previous = compiledTemplates.get(folder.realPath);
  if (previous?.sameSources(sources)) return previous;
  const compiled = new PromptTemplates(sources);
  compiledTemplates.set(folder.realPath, compiled);
  return compiled;
}

/**
 * The rendered prompts/system.md.liquid, or "" when the program has none. Deterministic: the same definition
 * and variables always give the same bytes, so the prompt prefix stays cacheable turn after turn.
 */
export function renderSystemPrompt(definition: AgentDefinition, variables: PromptVariables = {}): string {
  if (!definition.templates) return "";
  return definition.templates.renderSystem(promptScope(definition.manifest, variables));
}
