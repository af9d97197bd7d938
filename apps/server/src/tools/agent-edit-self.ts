import fs from "node:fs/promises";
import { z } from "zod";
import { MAX_SELF_FILE_BYTES, resolveSelfPath, selfFolder, selfPath } from "./agent-self.js";
import { defineTool, ToolError } from "./define.js";

export const agentEditSelfTool = defineTool("agent_edit_self", {
  title: ({ path }) => `Edited its own ${path}`,
  description: [
    "Replace text in one of your own files: old_string must occur exactly once (include surrounding lines to",
    "make it unique) unless replace_all is true. Not kept until agent_commit.",
  ].join(" "),
  parameters: z.object({
    path: selfPath,
    old_string: z.string().min(1, "must not be empty").describe("The exact text to replace."),
    new_string: z.string().describe("The text to put in its place."),
    replace_all: z.boolean().optional().describe("Replace every occurrence instead of exactly one."),
  }),
  async execute({ path, old_string, new_string, replace_all }, context) {
    const root = await selfFolder(context, { change: true });
    const file = await resolveSelfPath(root, path, { write: true });
    const text = await fs.readFile(file, "utf8").catch(() => {
      throw new ToolError(`${path}: no such file in your folder (agent_write_self creates files).`);
    });
    const lines = occurrenceLines(text, old_string);
    if (lines.length === 0)
      throw new ToolError(`${path}: old_string was not found; read the file and copy it exactly.`);
    if (lines.length > 1 && !replace_all) {
      throw new ToolError(
        `${path}: old_string occurs ${lines.length} times (lines ${lines.join(", ")}); include more context to ` +
          "make it unique, or pass replace_all: true.",
      );
    }
    const edited = text.split(old_string).join(new_string);
    if (Buffer.byteLength(edited) > MAX_SELF_FILE_BYTES) {
      throw new ToolError(`${path}: the result would exceed ${MAX_SELF_FILE_BYTES / 1024} KB.`);
    }
    await fs.writeFile(file, edited);
    const count = lines.length;
    return {
      summary: `Edited ${path}`,
      output: `Replaced ${count} occurrence${count === 1 ? "" : "s"} in ${path}. Not committed yet: call agent_commit to keep it.`,
      metadata: { path, replacements: count },
    };
  },
});

/** The 1-based line where each non-overlapping occurrence starts. */
function occurrenceLines(text: string, needle: string): number[] {
  const lines: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    lines.push(text.slice(0, at).split("\n").length);
  }
  return lines;
}
