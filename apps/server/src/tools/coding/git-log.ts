import { facilityPath } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { inWorkspace, plural } from "./directive.js";
import { gitFailure, gitRequest } from "./git.js";

const FIELD = "\x1f";
const RECORD = "\x1e";

export interface LogEntry {
  commit: string;
  short: string;
  author: string;
  date: string;
  subject: string;
}

/** `git log` printed with FORMAT, one record per commit. */
export function parseLog(output: string): LogEntry[] {
  return output
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ""))
    .filter(Boolean)
    .map((record) => {
      const [commit = "", short = "", author = "", date = "", subject = ""] = record.split(FIELD);
      return { commit, short, author, date, subject };
    });
}

const FORMAT = `--format=%H${FIELD}%h${FIELD}%an${FIELD}%aI${FIELD}%s${RECORD}`;

export const gitLogTool = defineTool("git_log", {
  idempotent: true,
  title: ({ path }) => `Viewed history${path ? ` of ${path}` : ""}`,
  description: "List the workspace repository's latest commits (newest first), or those touching one path.",
  parameters: z.object({
    limit: z.number().int().min(1).max(200).optional().describe("How many commits (default 20)"),
    path: facilityPath.optional().describe("Only commits touching this file or folder"),
  }),
  execute: ({ limit, path }, context) =>
    inWorkspace(
      context,
      gitRequest(["log", `--max-count=${limit ?? 20}`, "--no-color", FORMAT, ...(path ? ["--", path] : [])]),
    ),
  finish: (outcome) => {
    if (outcome.state === "failed" && /does not have any commits yet/.test(outcome.stderr)) {
      return { summary: "No commits yet", output: "The repository has no commits yet.", metadata: { commits: [] } };
    }
    const failed = gitFailure(outcome);
    if (failed) return failed;
    const commits = parseLog(outcome.stdout);
    return {
      summary: commits.length === 0 ? "No commits" : plural(commits.length, "commit"),
      output:
        commits.length === 0
          ? "No commits match."
          : commits.map((c) => `${c.short} ${c.date.slice(0, 10)} ${c.author}: ${c.subject}`).join("\n"),
      metadata: { commits },
    };
  },
});
