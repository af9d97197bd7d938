import { z } from "zod";
import { defineTool } from "../define.js";
import { finishOperation, inWorkspace, operationRequest, plural } from "./directive.js";

export const writeFileTool = defineTool("write_file", {
  idempotent: true,
  title: ({ path }) => `Wrote ${path}`,
  description: [
    "Write a whole file in the workspace, creating it (and its folders) or replacing what it held. To change part",
    "of an existing file, use edit_file instead.",
  ].join(" "),
  parameters: z.object({
    path: z.string().min(1).max(4_096).describe("Relative to the workspace root, or absolute inside it"),
    content: z.string().max(1_000_000).describe("The file's entire new content"),
  }),
  execute: (args, context) => inWorkspace(context, operationRequest({ op: "write_file", ...args })),
  finish: (outcome) =>
    finishOperation(outcome, "write_file", (written) => {
      const done = `${written.action === "created" ? "Created" : "Overwrote"} ${written.path}`;
      return {
        summary: `${written.action === "created" ? "Created" : "Overwritten"}, ${plural(written.bytes_written, "byte")}`,
        output: `${done} (${plural(written.bytes_written, "byte")}).`,
        metadata: { path: written.path, action: written.action, bytes: written.bytes_written },
      };
    }),
});
