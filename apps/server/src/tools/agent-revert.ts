import { z } from "zod";
import { agentGit, revertInAgentRepo } from "../agents/git.js";
import { checkOrRevert, selfFolder, shortCommit, uncommitted } from "./agent-self.js";
import { defineTool, ToolError } from "./define.js";

export const agentRevertTool = defineTool("agent_revert", {
  title: ({ commit }) => (commit ? `Reverted its commit ${commit.slice(0, 7)}` : "Reverted its last commit"),
  description: [
    "Undo one of your commits (default: the last one) with a new commit; agent_log lists them. Health-checked",
    "like agent_commit. Needs no uncommitted changes.",
  ].join(" "),
  parameters: z.object({
    commit: z
      .string()
      .trim()
      .regex(/^[0-9a-f]{4,40}$/i, "must be a commit id from agent_log")
      .optional()
      .describe("The commit to undo; the latest when omitted."),
  }),
  async execute({ commit }, context) {
    const root = await selfFolder(context, { change: true });
    const pending = await uncommitted(root);
    if (pending.length) {
      throw new ToolError(
        `You have uncommitted changes (${pending.map((l) => l.slice(3)).join(", ")}); commit them first.`,
      );
    }
    const git = agentGit(root);
    const target = (
      await git.raw(["rev-parse", "--verify", "--quiet", `${commit ?? "HEAD"}^{commit}`]).catch(() => "")
    ).trim();
    if (!target) throw new ToolError(`No commit ${commit} in your history; agent_log lists them.`);
    const parents = (await git.raw(["rev-list", "--parents", "-n", "1", target])).trim().split(" ");
    if (parents.length < 2) throw new ToolError("That is your first commit; it cannot be undone.");
    let revert: string;
    try {
      revert = await revertInAgentRepo(root, target, "Asked for by the agent.");
    } catch {
      throw new ToolError(
        `Commit ${shortCommit(target)} cannot be undone cleanly: later commits changed the same lines.`,
      );
    }
    return checkOrRevert(context, root, revert, {
      summary: `Reverted ${shortCommit(target)}`,
      output: `Undid commit ${shortCommit(target)} with commit ${shortCommit(revert)}.`,
    });
  },
});
