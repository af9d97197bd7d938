import { z } from "zod";
import { readSkillsIndex } from "../agents/skills.js";
import { defineTool } from "./define.js";
import { withSkillsFolder } from "./skills-folder.js";

export const skillsListTool = defineTool("skills_list", {
  title: () => "Listed skills",
  idempotent: true,
  description: [
    "List your skills: folders of instructions for recurring tasks, each with a name and a description of when",
    "to use it. Call skills_load with a skill's name to read its instructions before following them.",
  ].join(" "),
  parameters: z.object({}),
  async execute(_args, context) {
    const { skills, warnings } = await withSkillsFolder(context, readSkillsIndex);
    const skipped = warnings.filter((w) => w.startsWith("skills/"));
    const lines = skills.length ? skills.map((s) => `- ${s.name}: ${s.description}`) : ["You have no skills."];
    if (skipped.length) lines.push("", "Skipped because of errors:", ...skipped.map((w) => `- ${w}`));
    return {
      summary: `${skills.length} ${skills.length === 1 ? "skill" : "skills"}`,
      output: lines.join("\n"),
      metadata: { skills: skills.map((s) => s.name), skipped },
    };
  },
});
