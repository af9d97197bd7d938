import { facilityPath } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { inWorkspace, plural } from "./directive.js";
import { gitFailure } from "./git.js";

/** A word for /bin/sh, quoted so nothing in it is interpreted. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** What `git commit` prints first and last: `[main 1a2b3c4] subject`, ` 2 files changed, 3 insertions(+)…`. */
export function parseCommit(output: string): {
  branch: string | null;
  commit: string | null;
  filesChanged: number;
  insertions: number;
  deletions: number;
} {
  const head = /^\[(.+?)(?: \(root-commit\))? ([0-9a-f]{7,64})\]/m.exec(output);
  const count = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
  return {
    branch: head?.[1] ?? null,
    commit: head?.[2] ?? null,
    filesChanged: count(/(\d+) files? changed/),
    insertions: count(/(\d+) insertions?\(\+\)/),
    deletions: count(/(\d+) deletions?\(-\)/),
  };
}

export const gitCommitTool = defineTool("git_commit", {
  title: ({ message }) => {
    const subject = message.trim().split("\n", 1)[0]!;
    return `Committed “${subject.length > 72 ? `${subject.slice(0, 71)}…` : subject}”`;
  },
  description: [
    "Commit changes in the workspace repository with a message: every change (new files included) or, with",
    "paths, only those files and folders. The repository's hooks run. Check git_status or git_diff first.",
  ].join(" "),
  parameters: z.object({
    message: z.string().trim().min(1).max(10_000).describe("The commit message: a short subject line, then details"),
    paths: z.array(facilityPath).min(1).max(200).optional().describe("Only these, relative to the workspace root"),
  }),
  // Two git commands, so a shell; the message goes in on stdin and every path is quoted.
  execute: ({ message, paths }, context) => {
    const pathspec = paths ? ` -- ${paths.map(shellQuote).join(" ")}` : "";
    const script = `git --literal-pathspecs add -A${pathspec} && git --literal-pathspecs commit -F -${pathspec}`;
    return inWorkspace(context, {
      command: { shell: script },
      stdin: message,
      env: { LC_ALL: "C" },
      // Hooks (tests, linters) may take a while.
      timeout_seconds: 300,
    });
  },
  finish: (outcome) => {
    if (outcome.state === "failed" && /nothing (added )?to commit/.test(outcome.stdout)) {
      return { summary: "Nothing to commit", output: "Nothing to commit: there are no changes.", isError: true };
    }
    if (outcome.state === "failed" && /Please tell me who you are|empty ident/i.test(outcome.stderr)) {
      return {
        summary: "No git identity",
        output:
          "git has no author identity on that machine: set one there with `git config user.name …` and " +
          "`git config user.email …` (in the repository or globally), then commit again.",
        isError: true,
      };
    }
    const failed = gitFailure(outcome);
    if (failed) return failed;
    const commit = parseCommit(outcome.stdout);
    const changes = `${plural(commit.filesChanged, "file")} changed, +${commit.insertions} −${commit.deletions}`;
    const what = [commit.commit, commit.branch && `on ${commit.branch}`].filter(Boolean).join(" ");
    return {
      summary: `${commit.commit ?? "Committed"} · ${changes}`,
      output: `Committed${what ? ` ${what}` : ""}: ${changes}.`,
      metadata: commit,
    };
  },
});
