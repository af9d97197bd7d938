import { z } from "zod";
import { defineTool } from "../define.js";
import { inWorkspace, plural } from "./directive.js";
import { gitFailure, gitRequest } from "./git.js";

export interface StatusEntry {
  path: string;
  /** The path before a rename or copy. */
  from?: string;
  /** Porcelain status letters: the index (staged) and the work tree; "?" for untracked. */
  index: string;
  worktree: string;
}

export interface GitStatus {
  branch: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  entries: StatusEntry[];
}

/** `git status --porcelain=v1 --branch -z` read into its parts. */
export function parseStatus(output: string): GitStatus {
  const fields = output.split("\0");
  const status: GitStatus = { branch: null, upstream: null, ahead: 0, behind: 0, entries: [] };
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.startsWith("## ")) {
      const header = field.slice(3);
      const unborn = /^(?:No commits yet on|Initial commit on) (.+)$/.exec(header);
      const named = /^(.+?)(?:\.\.\.(\S+))?(?: \[(.+)\])?$/.exec(header);
      if (unborn) status.branch = unborn[1]!;
      else if (named && !header.startsWith("HEAD (no branch)")) {
        status.branch = named[1]!;
        status.upstream = named[2] ?? null;
        status.ahead = Number(/ahead (\d+)/.exec(named[3] ?? "")?.[1] ?? 0);
        status.behind = Number(/behind (\d+)/.exec(named[3] ?? "")?.[1] ?? 0);
      }
      continue;
    }
    if (field.length < 4) continue;
    const entry: StatusEntry = { index: field[0]!, worktree: field[1]!, path: field.slice(3) };
    if (entry.index === "R" || entry.index === "C") entry.from = fields[++i];
    status.entries.push(entry);
  }
  return status;
}

function describe(status: GitStatus): string {
  const where = status.branch ? `On branch ${status.branch}` : "Not on a branch (detached HEAD)";
  const tracking = status.upstream
    ? ` (${status.ahead || status.behind ? `ahead ${status.ahead}, behind ${status.behind} of` : "up to date with"} ${status.upstream})`
    : "";
  const line = (entry: StatusEntry, letter: string) =>
    `  ${letter} ${entry.from ? `${entry.from} -> ${entry.path}` : entry.path}`;
  const staged = status.entries.filter((e) => e.index !== " " && e.index !== "?").map((e) => line(e, e.index));
  const unstaged = status.entries.filter((e) => e.worktree !== " " && e.index !== "?").map((e) => line(e, e.worktree));
  const untracked = status.entries.filter((e) => e.index === "?").map((e) => `  ${e.path}`);
  const sections = [
    `${where}${tracking}`,
    ...(staged.length ? ["Staged:", ...staged] : []),
    ...(unstaged.length ? ["Not staged:", ...unstaged] : []),
    ...(untracked.length ? ["Untracked:", ...untracked] : []),
  ];
  if (status.entries.length === 0) sections.push("Nothing to commit: the working tree is clean.");
  return sections.join("\n");
}

export const gitStatusTool = defineTool("git_status", {
  idempotent: true,
  title: () => "Checked git status",
  description: "Show the workspace repository's branch and its staged, unstaged and untracked files.",
  parameters: z.object({}),
  execute: (_args, context) => inWorkspace(context, gitRequest(["status", "--porcelain=v1", "--branch", "-z"])),
  finish: (outcome) => {
    const failed = gitFailure(outcome);
    if (failed) return failed;
    const status = parseStatus(outcome.stdout);
    return {
      summary: status.entries.length === 0 ? "Clean" : plural(status.entries.length, "changed file"),
      output: describe(status),
      metadata: { ...status },
    };
  },
});
