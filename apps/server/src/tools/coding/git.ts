import type { DirectiveRequest } from "@cybros/protocol";
import type { DirectiveOutcome, ToolResult } from "../define.js";
import { notRun } from "./directive.js";

/**
 * A git command as a directive in the workspace root: argv (nothing for a shell to reinterpret), messages in
 * English so the answer parses, pathspecs taken literally.
 */
export function gitRequest(args: string[], options: Partial<DirectiveRequest> = {}): DirectiveRequest {
  return {
    command: { argv: ["git", "--literal-pathspecs", ...args] },
    env: { LC_ALL: "C" },
    timeout_seconds: 60,
    ...options,
  };
}

/** The result for a git command that did not succeed, or undefined when it did. */
export function gitFailure(outcome: DirectiveOutcome): ToolResult | undefined {
  const early = notRun(outcome);
  if (early) return early;
  if (outcome.state === "succeeded") return undefined;
  if (outcome.state === "timed_out") return { summary: "Timed out", output: "git timed out.", isError: true };
  if (outcome.state === "canceled") return { summary: "Canceled", output: "git was canceled.", isError: true };
  const said = `${outcome.stderr}\n${outcome.stdout}`.trim();
  if (/not a git repository/i.test(said)) {
    return {
      summary: "Not a git repository",
      output: "The workspace is not a git repository (`git init` with the bash tool makes it one).",
      isError: true,
    };
  }
  return {
    summary: `git failed (exit ${outcome.exitCode})`,
    output: said || `git failed (exit ${outcome.exitCode}).`,
    isError: true,
  };
}
