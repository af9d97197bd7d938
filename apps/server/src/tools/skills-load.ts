import { z } from "zod";
import { listSkillFiles, skillName } from "../agents/skills.js";
import { defineTool, oneLine } from "./define.js";
import { skillOrFail, withSkillsFolder } from "./skills-folder.js";

export const skillsLoadTool = defineTool("skills_load", {
  title: ({ name }) => `Loaded skill ${name}`,
  idempotent: true,
  description: [
    "Load one of your skills: answers its instructions (the body of its SKILL.md) and the list of files it",
    "contains (scripts, references, assets). Load a skill before doing a task its description matches, then",
    "follow its instructions; read its files with skills_read_file only when the instructions call for them.",
  ].join(" "),
  parameters: z.object({
    name: skillName.describe("The skill's name, as skills_list or the skills index shows it."),
  }),
  async execute({ name }, context) {
    const { skill, listing } = await withSkillsFolder(context, async (folder) => {
      const skill = await skillOrFail(folder, name);
      return { skill, listing: await listSkillFiles(skill) };
    });
    const lines = [`# Skill: ${skill.name}`, "", skill.body || "(This skill has no instructions.)"];
    if (listing.files.length) {
      lines.push(
        "",
        `Files in this skill (read one with skills_read_file {"name": "${skill.name}", "path": "<path>"}):`,
        ...listing.files.map((file) => `- ${file}`),
      );
      if (listing.truncated) lines.push("- … (more files not listed)");
    }
    return {
      summary: oneLine(skill.description),
      output: lines.join("\n"),
      metadata: { name: skill.name, files: listing.files },
    };
  },
});
