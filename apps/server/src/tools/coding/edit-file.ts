import { z } from "zod";
import { defineTool } from "../define.js";
import { finishOperation, inWorkspace, operationRequest, plural } from "./directive.js";

export const editFileTool = defineTool("edit_file", {
  title: ({ path }) => `Edited ${path}`,
  description: [
    "Replace exact text in a file in the workspace. `old_string` must match the file exactly (whitespace and",
    "indentation included, without the line numbers read_file shows) and occur once, unless replace_all is set;",
    "otherwise the edit is refused with how many matches there are and where. Read the file first.",
  ].join(" "),
  parameters: z.object({
    path: z.string().min(1).max(4_096).describe("Relative to the workspace root, or absolute inside it"),
    old_string: z.string().min(1).max(1_000_000).describe("The exact text to replace"),
    new_string: z.string().max(1_000_000).describe("The text to put in its place"),
    replace_all: z.boolean().optional().describe("Replace every occurrence rather than exactly one"),
  }),
  execute: (args, context) => inWorkspace(context, operationRequest({ op: "edit_file", ...args })),
  finish: (outcome) =>
    finishOperation(outcome, "edit_file", (edit) => {
      const where = edit.lines.length === 1 ? `line ${edit.lines[0]}` : `lines ${edit.lines.join(", ")}`;
      const summary = `${plural(edit.replacements, "replacement")} at ${where}`;
      return {
        summary,
        output: `Edited ${edit.path}: ${summary}.\n\n${edit.diff}`,
        metadata: {
          path: edit.path,
          replacements: edit.replacements,
          lines: edit.lines,
          diff: edit.diff,
          diffTruncated: edit.diff_truncated,
        },
      };
    }),
});
