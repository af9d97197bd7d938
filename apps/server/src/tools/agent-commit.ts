import { z } from "zod";
import { commitAgentChange } from "../agents/git.js";
import { checkOrRevert, selfFolder, shortCommit } from "./agent-self.js";
import { defineTool, ToolError } from "./define.js";

export const agentCommitTool = defineTool("agent_commit", {
  title: () => "Committed its own changes",
  description: [
    "Commit all your uncommitted changes with a message, so they take effect from your next turn. A health check",
    "then runs (agent.yml validates, your prompt renders, tools and hooks parse, a test turn answers); if it fails",
    "the commit is reverted automatically and the result says why.",
  ].join(" "),
  parameters: z.object({
    message: z
      .string()
      .trim()
      .min(1, "is required")
      .max(500, "must be at most 500 characters")
      .describe("What changed and why."),
  }),
  async execute({ message }, context) {
    const root = await selfFolder(context, { change: true });
    const commit = await commitAgentChange({ localPath: root }, { paths: "all", message, author: "agent" });
    if (!commit) throw new ToolError("Nothing to commit: you have no uncommitted changes.");
    return checkOrRevert(context, root, commit, {
      summary: `Committed ${shortCommit(commit)}`,
      output: `Committed ${shortCommit(commit)}: ${message}`,
    });
  },
});
