import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { AgentProgramError } from "./errors.js";
import { listProgramFolder, type ProgramFolder, readProgramFile, resolveInside } from "./files.js";

/**
 * Agent Skills (https://agentskills.io): skills/<name>/SKILL.md holds YAML frontmatter (name, description)
 * and instructions; scripts/, references/ and assets/ beside it are read on demand through the skills tools.
 */
export const SKILLS_FOLDER = "skills";
export const SKILL_FILE = "SKILL.md";
/** Files a skill tool returns are capped; larger ones are refused with their size. */
export const MAX_SKILL_RESOURCE_BYTES = 256 * 1024;
const MAX_LISTED_FILES = 200;
const MAX_LISTING_DEPTH = 4;

export const skillName = z
  .string()
  .min(1, "is required")
  .max(64, "must be at most 64 characters")
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be lowercase letters, digits and single hyphens");

const frontmatter = z.looseObject({
  name: z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).pipe(skillName),
  description: z
    .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
    .trim()
    .min(1, "is required")
    .max(1024, "must be at most 1024 characters"),
});

export interface SkillDocument {
  name: string;
  description: string;
  /** The instructions after the frontmatter. */
  body: string;
}

export interface SkillSummary {
  name: string;
  description: string;
  /** The skill's folder relative to the program, e.g. "skills/web-research". */
  path: string;
}

export function parseSkillDocument(text: string, file: string): SkillDocument {
  const match = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(text);
  if (!match) throw new AgentProgramError("must start with YAML frontmatter between --- lines", { file });
  let data: unknown;
  try {
    data = YAML.parse(match[1]!, { maxAliasCount: 100 });
  } catch (error) {
    throw new AgentProgramError(`frontmatter: ${(error as Error).message.split("\n")[0]}`, { file });
  }
  const parsed = frontmatter.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AgentProgramError(issue.message, { file, field: issue.path.join(".") || "frontmatter" });
  }
  return { name: parsed.data.name, description: parsed.data.description, body: text.slice(match[0].length).trim() };
}

function skillFile(folderName: string): string {
  return `${SKILLS_FOLDER}/${folderName}/${SKILL_FILE}`;
}

async function readSkillDocument(folder: ProgramFolder, folderName: string): Promise<SkillDocument | null> {
  const file = skillFile(folderName);
  const document = await readProgramFile(folder, file, "skill", (text) => parseSkillDocument(text, file));
  if (document && document.name !== folderName) {
    throw new AgentProgramError(`must match the folder name "${folderName}"`, { file, field: "name" });
  }
  return document;
}

/**
 * The skills index: every skills/<name>/SKILL.md, sorted by name. A broken skill becomes a warning rather than
 * taking the whole agent down, since agents edit their own skills.
 */
export async function readSkillsIndex(folder: ProgramFolder): Promise<{ skills: SkillSummary[]; warnings: string[] }> {
  const names = await listProgramFolder(folder, SKILLS_FOLDER);
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        const document = await readSkillDocument(folder, name);
        return document ? { name, description: document.description, path: `${SKILLS_FOLDER}/${name}` } : null;
      } catch (error) {
        if (folder.signal?.aborted) throw error;
        if (error instanceof AgentProgramError) return `${error.message} (skill skipped)`;
        const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
        return `${skillFile(name)}: cannot be read (${code}) (skill skipped)`;
      }
    }),
  );
  return {
    skills: results.filter((r): r is SkillSummary => typeof r === "object" && r !== null),
    warnings: results.filter((r): r is string => typeof r === "string"),
  };
}

/** The skills index as the model reads it in the stable part of the prompt; "" when there are none. */
export function formatSkillsIndex(skills: SkillSummary[]): string {
  if (skills.length === 0) return "";
  const lines = skills.map((s) => `- ${s.name}: ${s.description.replace(/\s+/g, " ")}`);
  return [
    "Skills you can use. When a task matches a skill's description, call skills_load with its name first.",
    ...lines,
  ].join("\n");
}

export interface LoadedSkill extends SkillDocument {
  /** The skill folder's real path; resources are resolved inside it. */
  realPath: string;
}

/** One skill by name, or null when the program has no such skill. */
export async function loadSkill(folder: ProgramFolder, name: string): Promise<LoadedSkill | null> {
  if (!skillName.safeParse(name).success) return null;
  const realPath = await resolveInside(folder.realPath, `${SKILLS_FOLDER}/${name}`);
  if (!realPath) return null;
  const document = await readSkillDocument(folder, name);
  return document ? { ...document, realPath } : null;
}

/**
 * Files of a skill besides SKILL.md, as relative paths with "/" separators, sorted. Symlinked folders are not
 * followed; hidden entries are left out; the list stops at 200 files.
 */
export async function listSkillFiles(skill: LoadedSkill): Promise<{ files: string[]; truncated: boolean }> {
  const files: string[] = [];
  let truncated = false;
  async function walk(relative: string, depth: number): Promise<void> {
    const entries = await fs.readdir(path.join(skill.realPath, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (depth < MAX_LISTING_DEPTH) await walk(child, depth + 1);
        continue;
      }
      if (child === SKILL_FILE) continue;
      if (files.length >= MAX_LISTED_FILES) {
        truncated = true;
        return;
      }
      files.push(child);
    }
  }
  await walk("", 1);
  return { files, truncated };
}

/**
 * Reads a file inside a skill. Refuses absolute paths, `..`, symlinks whose target is outside the skill
 * folder, anything that is not a regular file, and files over the size cap. Binary files are described, not
 * returned.
 */
export async function readSkillResource(
  skill: LoadedSkill,
  relative: string,
  signal?: AbortSignal,
): Promise<{ text: string | null; bytes: number }> {
  const real = await resolveInside(skill.realPath, relative);
  if (!real) throw new AgentProgramError("does not exist in this skill", { file: relative });
  const stat = await fs.stat(real);
  if (!stat.isFile()) throw new AgentProgramError("is not a file", { file: relative });
  if (stat.size > MAX_SKILL_RESOURCE_BYTES) {
    throw new AgentProgramError(
      `is ${Math.ceil(stat.size / 1024)} KB; files over ${MAX_SKILL_RESOURCE_BYTES / 1024} KB cannot be read`,
      { file: relative },
    );
  }
  const bytes = await fs.readFile(real, { signal });
  if (bytes.length > MAX_SKILL_RESOURCE_BYTES) {
    throw new AgentProgramError(`is over ${MAX_SKILL_RESOURCE_BYTES / 1024} KB and cannot be read`, { file: relative });
  }
  if (bytes.includes(0)) return { text: null, bytes: bytes.length };
  return { text: bytes.toString("utf8"), bytes: bytes.length };
}
