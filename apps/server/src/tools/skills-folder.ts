import { AgentProgramError } from "../agents/errors.js";
import { openProgramFolder, type ProgramFolder } from "../agents/files.js";
import { withLoadTimeout } from "../agents/loader.js";
import { type LoadedSkill, loadSkill, readSkillsIndex } from "../agents/skills.js";
import { type ToolContext, ToolError } from "./define.js";

/**
 * What the three skills tools share: the calling agent's folder, read with the loader's timeout, and its
 * problems ("skills/x/SKILL.md: description: is required") handed to the model as errors it can act on.
 */
export async function withSkillsFolder<T>(
  context: ToolContext,
  work: (folder: ProgramFolder) => Promise<T>,
): Promise<T> {
  try {
    return await withLoadTimeout(async (signal) => work(await openProgramFolder(context.agent.localPath, signal)), {
      signal: context.signal,
    });
  } catch (error) {
    if (error instanceof AgentProgramError) throw new ToolError(error.message);
    throw error;
  }
}

/** The named skill, or an error listing the skills that do exist. */
export async function skillOrFail(folder: ProgramFolder, name: string): Promise<LoadedSkill> {
  const skill = await loadSkill(folder, name);
  if (skill) return skill;
  const { skills } = await readSkillsIndex(folder);
  const available = skills.length
    ? `Available skills: ${skills.map((s) => s.name).join(", ")}.`
    : "This agent has no skills.";
  throw new AgentProgramError(`No skill named "${name}". ${available}`);
}
