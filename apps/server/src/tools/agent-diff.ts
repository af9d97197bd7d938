import { z } from "zod";
import { agentGit } from "../agents/git.js";
import { selfFolder, uncommitted } from "./agent-self.js";
import { defineTool } from "./define.js";

const MAX_DIFF_CHARS = 40_000;

export const agentDiffTool = defineTool("agent_diff", {
  idempotent: true,
  title: () => "Looked at its uncommitted changes",
  description: "Show your uncommitted changes (files changed, added or deleted since your last commit) as a diff.",
  parameters: z.object({}),
  async execute(_args, context) {
    const root = await selfFolder(context, { change: true });
    const status = await uncommitted(root);
    if (!status.length)
      return { summary: "No uncommitted changes", output: "No uncommitted changes.", metadata: { files: 0 } };
    const git = agentGit(root);
    // New files are shown as additions: marked intent-to-add for this diff only, then unmarked.
    const untracked = status.filter((line) => line.startsWith("??")).map((line) => line.slice(3));
    if (untracked.length) await git.raw(["add", "--intent-to-add", "--", ...untracked]);
    let diff: string;
    try {
      diff = await git.raw(["diff", "HEAD", "--no-color", "--no-ext-diff"]);
    } finally {
      if (untracked.length) await git.raw(["reset", "-q", "--", ...untracked]);
    }
    const shown = diff.length > MAX_DIFF_CHARS ? `${diff.slice(0, MAX_DIFF_CHARS)}\n…[diff truncated]` : diff;
    return {
      summary: `${status.length} uncommitted file${status.length === 1 ? "" : "s"}`,
      output: `${status.join("\n")}\n\n${shown}`,
      metadata: { files: status.length },
    };
  },
});
