import { z } from "zod";
import { agentGit } from "../agents/git.js";
import { selfFolder } from "./agent-self.js";
import { defineTool } from "./define.js";

export const agentLogTool = defineTool("agent_log", {
  idempotent: true,
  title: () => "Read its own history",
  description: "List your recent commits, newest first: id, date, who made it (person, agent or revert), message.",
  parameters: z.object({
    limit: z
      .number()
      .int()
      .min(1, "must be at least 1")
      .max(100, "must be at most 100")
      .optional()
      .describe("Default 10."),
  }),
  async execute({ limit = 10 }, context) {
    const root = await selfFolder(context, { change: true });
    const log = await agentGit(root).raw(["log", `-n${limit}`, "--date=iso-strict", "--format=%h %ad %an: %s"]);
    const lines = log.split("\n").filter(Boolean);
    return {
      summary: `${lines.length} commit${lines.length === 1 ? "" : "s"}`,
      output: lines.join("\n"),
      metadata: { commits: lines.length },
    };
  },
});
