import fs from "node:fs/promises";
import nodePath from "node:path";
import { z } from "zod";
import { MAX_SELF_FILE_BYTES, resolveSelfPath, selfFolder, selfPath } from "./agent-self.js";
import { defineTool } from "./define.js";

export const agentWriteSelfTool = defineTool("agent_write_self", {
  title: ({ path }) => `Wrote its own ${path}`,
  description: [
    "Create or replace one of your own files with the given content. The change is not kept until you call",
    "agent_commit (which health-checks it); agent_diff shows what is uncommitted. Prefer agent_edit_self for",
    "small changes to an existing file.",
  ].join(" "),
  parameters: z.object({
    path: selfPath,
    content: z
      .string()
      .refine(
        (text) => Buffer.byteLength(text) <= MAX_SELF_FILE_BYTES,
        `must be at most ${MAX_SELF_FILE_BYTES / 1024} KB`,
      )
      .describe("The file's whole new content."),
  }),
  async execute({ path, content }, context) {
    const root = await selfFolder(context, { change: true });
    const file = await resolveSelfPath(root, path, { write: true });
    const existed = Boolean(await fs.stat(file).catch(() => null));
    await fs.mkdir(nodePath.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
    const bytes = Buffer.byteLength(content);
    return {
      summary: `${existed ? "Wrote" : "Created"} ${path}`,
      output: `${existed ? "Wrote" : "Created"} ${path} (${bytes} bytes). Not committed yet: call agent_commit to keep it.`,
      metadata: { path, bytes, created: !existed },
    };
  },
});
