import { facilityPath } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { inWorkspace, plural } from "./directive.js";
import { gitFailure, gitRequest } from "./git.js";

/** How many files a unified diff touches and how many lines it adds and removes. */
export function diffStats(diff: string): { files: number; insertions: number; deletions: number } {
  const stats = { files: 0, insertions: 0, deletions: 0 };
  let inHunk = false;
  for (const line of diff.split("\n")) {
    if (line.startsWith("diff --git ")) {
      stats.files++;
      inHunk = false;
    } else if (line.startsWith("@@")) {
      inHunk = true;
    } else if (inHunk && line.startsWith("+")) {
      stats.insertions++;
    } else if (inHunk && line.startsWith("-")) {
      stats.deletions++;
    }
  }
  return stats;
}

export const gitDiffTool = defineTool("git_diff", {
  idempotent: true,
  title: ({ staged, path }) => `Viewed ${staged ? "staged " : ""}changes${path ? ` in ${path}` : ""}`,
  description: [
    "Show the workspace repository's uncommitted changes as a unified diff: the work tree against the index, or",
    "with staged the index against the last commit. Untracked files are not included (git_status lists them).",
  ].join(" "),
  parameters: z.object({
    staged: z.boolean().optional().describe("Show what is staged for the next commit"),
    path: facilityPath.optional().describe("Only this file or folder, relative to the workspace root"),
  }),
  execute: ({ staged, path }, context) =>
    inWorkspace(
      context,
      gitRequest([
        "diff",
        "--no-color",
        "--no-ext-diff",
        ...(staged ? ["--cached"] : []),
        ...(path ? ["--", path] : []),
      ]),
    ),
  finish: (outcome, { staged, path }) => {
    const failed = gitFailure(outcome);
    if (failed) return failed;
    const diff = outcome.stdout;
    const stats = diffStats(diff);
    if (stats.files === 0) {
      const none = `No ${staged ? "staged " : ""}changes${path ? ` in ${path}` : ""}.`;
      return { summary: "No changes", output: none, metadata: { diff: "", ...stats, staged: Boolean(staged) } };
    }
    return {
      summary: `${plural(stats.files, "file")}, +${stats.insertions} −${stats.deletions}`,
      output: `${diff}${outcome.stdoutTruncated ? "\n[the diff reached the output cap; the rest was dropped]" : ""}`,
      metadata: { diff, ...stats, staged: Boolean(staged), truncated: outcome.stdoutTruncated },
    };
  },
});
