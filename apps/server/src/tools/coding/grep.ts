import { GREP_MAX_MATCHES } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { finishOperation, inWorkspace, operationRequest, plural } from "./directive.js";

export const grepTool = defineTool("grep", {
  idempotent: true,
  title: ({ pattern, path }) => `Searched for “${pattern}”${path ? ` in ${path}` : ""}`,
  description: [
    "Search the workspace's files for lines matching a regular expression; answers path:line:text, at most",
    `${GREP_MAX_MATCHES} lines. Files .gitignore excludes and binary files are skipped. Narrow it with \`path\``,
    "(a folder or a file) and `glob` (`*.ts`, `src/**`).",
  ].join(" "),
  parameters: z.object({
    pattern: z.string().min(1).max(4_096).describe("A regular expression"),
    path: z.string().min(1).max(4_096).optional().describe("A folder or file to search (default: the workspace root)"),
    glob: z.string().min(1).max(1_024).optional().describe("Only files matching this glob"),
    ignore_case: z.boolean().optional(),
  }),
  execute: (args, context) => inWorkspace(context, operationRequest({ op: "grep", ...args })),
  finish: (outcome) =>
    finishOperation(outcome, "grep", (found) => {
      const files = new Set(found.matches.map((match) => match.path)).size;
      const summary =
        found.matches.length === 0
          ? "No matches"
          : `${found.truncated ? "More than " : ""}${plural(found.matches.length, "match", "matches")} in ${plural(files, "file")}`;
      const lines = found.matches.map((match) => `${match.path}:${match.line}:${match.text}`);
      const more = found.truncated ? `\n(only the first ${GREP_MAX_MATCHES}; narrow the pattern, path or glob)` : "";
      return {
        summary,
        output: lines.length === 0 ? `No lines match ${found.pattern}.` : `${lines.join("\n")}${more}`,
        metadata: {
          pattern: found.pattern,
          path: found.path,
          matches: found.matches.length,
          files,
          truncated: found.truncated,
          engine: found.engine,
        },
      };
    }),
});
