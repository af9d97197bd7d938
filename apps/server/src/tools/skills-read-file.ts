import { z } from "zod";
import { MAX_SKILL_RESOURCE_BYTES, readSkillResource, skillName } from "../agents/skills.js";
import { defineTool } from "./define.js";
import { skillOrFail, withSkillsFolder } from "./skills-folder.js";

export const skillsReadFileTool = defineTool("skills_read_file", {
  title: ({ name, path }) => `Read ${name}/${path}`,
  idempotent: true,
  description: [
    "Read a file inside one of your skills, such as references/guide.md or scripts/check.py, by its path",
    "relative to the skill's folder (skills_load lists them). Only files inside that skill can be read;",
    `text files up to ${MAX_SKILL_RESOURCE_BYTES / 1024} KB.`,
  ].join(" "),
  parameters: z.object({
    name: skillName.describe("The skill's name."),
    path: z
      .string()
      .trim()
      .min(1, "is required")
      .max(1024, "is too long")
      .describe('The file\'s path relative to the skill folder, e.g. "references/guide.md".'),
  }),
  async execute({ name, path }, context) {
    const { text, bytes } = await withSkillsFolder(context, async (folder) =>
      readSkillResource(await skillOrFail(folder, name), path, folder.signal),
    );
    const metadata = { name, path, bytes };
    if (text === null) {
      return {
        summary: `Binary file, ${bytes} bytes`,
        output: `${path} is a binary file (${bytes} bytes); it cannot be shown as text.`,
        metadata,
      };
    }
    return { summary: `${bytes.toLocaleString("en")} bytes`, output: text, metadata };
  },
});
