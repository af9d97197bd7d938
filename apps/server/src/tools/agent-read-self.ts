import fs from "node:fs/promises";
import { z } from "zod";
import { MAX_SELF_FILE_BYTES, resolveSelfPath, selfFolder, selfPath } from "./agent-self.js";
import { defineTool, ToolError } from "./define.js";

export const agentReadSelfTool = defineTool("agent_read_self", {
  idempotent: true,
  title: ({ path }) => `Read its own ${path}`,
  description: [
    "Read one of your own files (agent.yml, AGENT.md, SOUL.md, USER.md, prompts/*.liquid, skills, …) by its path",
    'relative to your folder. A folder\'s path (or ".") lists what it holds.',
  ].join(" "),
  parameters: z.object({ path: selfPath }),
  async execute({ path }, context) {
    const root = await selfFolder(context, { change: false });
    const file = path === "." ? root : await resolveSelfPath(root, path, { write: false });
    const stat = await fs.stat(file).catch(() => null);
    if (!stat) throw new ToolError(`${path}: no such file in your folder.`);
    if (stat.isDirectory()) {
      const entries = (await fs.readdir(file, { withFileTypes: true }))
        .filter((entry) => entry.name !== ".git")
        .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
        .sort();
      return {
        summary: `Listed ${path}`,
        output: entries.join("\n") || "(empty)",
        metadata: { path, entries: entries.length },
      };
    }
    if (stat.size > MAX_SELF_FILE_BYTES) {
      throw new ToolError(
        `${path}: is ${stat.size} bytes; only files up to ${MAX_SELF_FILE_BYTES / 1024} KB are read.`,
      );
    }
    const text = await fs.readFile(file, "utf8");
    return { summary: `Read ${path}`, output: text, metadata: { path, bytes: stat.size } };
  },
});
