import { GLOB_MAX_FILES } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { finishOperation, inWorkspace, operationRequest, plural } from "./directive.js";

export const globTool = defineTool("glob", {
  idempotent: true,
  title: ({ pattern, path }) => `Listed files matching ${pattern}${path ? ` in ${path}` : ""}`,
  description: [
    "List the workspace's files whose path matches a glob (`**/*.ts`, `src/**/test_*.py`, `*.{js,jsx}`); a pattern",
    "without `/` matches file names at any depth. Files .gitignore excludes are left out. Sorted by path, at most",
    `${GLOB_MAX_FILES}.`,
  ].join(" "),
  parameters: z.object({
    pattern: z.string().min(1).max(1_024).describe("The glob, relative to `path`"),
    path: z.string().min(1).max(4_096).optional().describe("The folder to search (default: the workspace root)"),
  }),
  execute: (args, context) => inWorkspace(context, operationRequest({ op: "glob", ...args })),
  finish: (outcome) =>
    finishOperation(outcome, "glob", (found) => {
      const count = found.truncated ? `more than ${GLOB_MAX_FILES} files` : plural(found.files.length, "file");
      const more = found.truncated ? `\n(only the first ${GLOB_MAX_FILES}; narrow the pattern or the path)` : "";
      return {
        summary: found.files.length === 0 ? "No files" : count,
        output: found.files.length === 0 ? `No files match ${found.pattern}.` : `${found.files.join("\n")}${more}`,
        metadata: { pattern: found.pattern, path: found.path, files: found.files, truncated: found.truncated },
      };
    }),
});
