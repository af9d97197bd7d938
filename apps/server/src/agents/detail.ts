import type { AgentDetail, AgentFile } from "@cybros/protocol";
import type { Account } from "../current.js";
import { resolutionsFor } from "../providers/resolve.js";
import type { Services } from "../services.js";
import { AgentProgramError } from "./errors.js";
import { listProgramFolder, openProgramFolder, type ProgramFolder, readProgramFile } from "./files.js";
import { type AgentProgram, presentAgent } from "./index.js";
import { type AgentDefinition, INSTRUCTION_FILES, loadAgentProgram, withLoadTimeout } from "./loader.js";
import { MANIFEST_FILE } from "./manifest.js";
import { PROMPTS_FOLDER, SYSTEM_TEMPLATE_NAME } from "./prompt.js";
import { SKILL_FILE, SKILLS_FOLDER } from "./skills.js";

/**
 * Everything the read-only agent page shows. A program that does not load is still described: its files as
 * they are, and `loadError` saying why, so the person can see and fix it.
 */
export async function describeAgentProgram(
  services: Services,
  account: Account,
  program: AgentProgram,
): Promise<AgentDetail> {
  let definition: AgentDefinition | null = null;
  let loadError: string | null = null;
  try {
    definition = await loadAgentProgram(program.localPath);
  } catch (error) {
    if (!(error instanceof AgentProgramError)) {
      services.log.error({ err: error, agentProgramId: program.id }, "agent program failed to load");
    }
    loadError = error instanceof AgentProgramError ? error.message : "the agent program could not be read";
  }
  const shown = await readShownFiles(program.localPath).catch(() => ({ manifestText: null, files: [] }));
  const { resolutions, defaultModel } = await resolutionsFor(
    services.db,
    account,
    definition?.manifest.model.prefer ?? [],
  );
  return {
    agent: presentAgent(program),
    localPath: program.localPath,
    manifest: definition ? { ...definition.manifest } : null,
    manifestText: definition?.manifestText ?? shown.manifestText,
    files: shown.files,
    tools: definition?.manifest.tools.allow ?? [],
    models: resolutions,
    defaultModel,
    skills: definition?.skills ?? [],
    gitCommit: definition?.gitCommit ?? null,
    loadError,
    warnings: definition?.warnings ?? [],
  };
}

/** The text files people read on the agent page, each read on its own so one broken file hides nothing else. */
async function readShownFiles(localPath: string): Promise<{ manifestText: string | null; files: AgentFile[] }> {
  return withLoadTimeout(async (signal) => {
    const folder = await openProgramFolder(localPath, signal);
    const templates = (await listProgramFolder(folder, PROMPTS_FOLDER).catch(() => []))
      .filter((name) => name.endsWith(".liquid"))
      .sort((a, b) => Number(b === SYSTEM_TEMPLATE_NAME) - Number(a === SYSTEM_TEMPLATE_NAME));
    const skills = await listProgramFolder(folder, SKILLS_FOLDER).catch(() => []);
    const paths = [
      ...Object.values(INSTRUCTION_FILES),
      ...templates.map((name) => `${PROMPTS_FOLDER}/${name}`),
      ...skills.map((name) => `${SKILLS_FOLDER}/${name}/${SKILL_FILE}`),
    ];
    const [manifestText, ...contents] = await Promise.all(
      [MANIFEST_FILE, ...paths].map((file) => readText(folder, file)),
    );
    const files = paths.flatMap((file, index) =>
      contents[index] == null ? [] : [{ path: file, content: contents[index]! }],
    );
    return { manifestText: manifestText ?? null, files };
  });
}

async function readText(folder: ProgramFolder, file: string): Promise<string | null> {
  try {
    return await readProgramFile(folder, file, "text", (text) => text);
  } catch (error) {
    if (folder.signal?.aborted) throw error;
    return null;
  }
}
