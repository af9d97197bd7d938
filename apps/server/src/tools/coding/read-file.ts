import { READ_FILE_DEFAULT_LIMIT, READ_FILE_MAX_LINE_CHARS } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { finishOperation, inWorkspace, operationRequest } from "./directive.js";

export const readFileTool = defineTool("read_file", {
  idempotent: true,
  title: ({ path, offset, limit }) => {
    if (limit !== undefined) return `Read ${path}:${offset ?? 1}-${(offset ?? 1) + limit - 1}`;
    return offset === undefined ? `Read ${path}` : `Read ${path} from line ${offset}`;
  },
  description: [
    "Read a text file in the workspace. Lines come numbered (number, tab, line), up to",
    `${READ_FILE_DEFAULT_LIMIT} from \`offset\` (the first line, from 1); lines over ${READ_FILE_MAX_LINE_CHARS}`,
    "characters are cut. Read a file before editing it. Binary files are refused.",
  ].join(" "),
  parameters: z.object({
    path: z.string().min(1).max(4_096).describe("Relative to the workspace root, or absolute inside it"),
    offset: z.number().int().min(1).optional().describe("The line to start at, from 1"),
    limit: z.number().int().min(1).max(20_000).optional().describe("How many lines at most"),
  }),
  execute: (args, context) => inWorkspace(context, operationRequest({ op: "read_file", ...args })),
  finish: (outcome) =>
    finishOperation(outcome, "read_file", (read) => {
      const range =
        read.total_lines === 0 ? "Empty file" : `Lines ${read.start_line}-${read.end_line} of ${read.total_lines}`;
      const more =
        read.end_line < read.total_lines
          ? `\n\n(${range.toLowerCase()}; read on with offset ${read.end_line + 1})`
          : "";
      return {
        summary: range,
        output: read.total_lines === 0 ? `${read.path} is empty.` : `${read.content}${more}`,
        metadata: {
          path: read.path,
          startLine: read.start_line,
          endLine: read.end_line,
          totalLines: read.total_lines,
          truncated: read.truncated,
        },
      };
    }),
});
