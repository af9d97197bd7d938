import { z } from "zod";
import { defineTool } from "../define.js";
import { inWorkspace, notRun } from "./directive.js";

const DEFAULT_TIMEOUT_SECONDS = 120;
/** Per stream, what the model reads: the start and, mostly, the end (where errors and test summaries are). */
const KEEP_HEAD_CHARS = 4_000;
const KEEP_TAIL_CHARS = 16_000;

/** A command's first line, cut short for a title. */
function commandLine(command: string): string {
  const first = command.trim().split("\n", 1)[0]!;
  const short = first.length > 80 ? `${first.slice(0, 79)}…` : first;
  return command.trim().includes("\n") ? `${short} …` : short;
}

/** The text with its middle cut when long, saying how much went. */
export function clipMiddle(text: string): { text: string; clipped: boolean } {
  if (text.length <= KEEP_HEAD_CHARS + KEEP_TAIL_CHARS) return { text, clipped: false };
  const cut = text.length - KEEP_HEAD_CHARS - KEEP_TAIL_CHARS;
  return {
    text: `${text.slice(0, KEEP_HEAD_CHARS)}\n[… ${cut} characters cut …]\n${text.slice(-KEEP_TAIL_CHARS)}`,
    clipped: true,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export const bashTool = defineTool("bash", {
  title: ({ command }) => `Ran \`${commandLine(command)}\``,
  description: [
    "Run a shell command (/bin/sh) in the workspace root: builds, tests, package managers, scripts. Answers its",
    "exit code, stdout and stderr (long output keeps its start and end) and how long it took; the output also",
    `streams live to the person. Times out after timeout_s (default ${DEFAULT_TIMEOUT_SECONDS}). Prefer read_file,`,
    "edit_file, glob and grep for files, and the git_* tools for git.",
  ].join(" "),
  parameters: z.object({
    command: z.string().trim().min(1).max(65_536).describe("The command, as typed in a shell"),
    timeout_s: z.number().int().min(1).max(3_600).optional().describe("Seconds before it is stopped"),
  }),
  execute: ({ command, timeout_s }, context) =>
    inWorkspace(context, {
      command: { shell: command },
      timeout_seconds: timeout_s ?? DEFAULT_TIMEOUT_SECONDS,
      // Builds and package managers fetch; the policy narrows this where it must.
      capabilities: { network: "open" },
    }),
  finish: (outcome, { command, timeout_s }) => {
    const early = notRun(outcome);
    if (early) return early;
    const stdout = clipMiddle(outcome.stdout);
    const stderr = clipMiddle(outcome.stderr);
    const ended =
      outcome.state === "timed_out"
        ? `timed out after ${timeout_s ?? DEFAULT_TIMEOUT_SECONDS} s (exit 124)`
        : outcome.state === "canceled"
          ? `canceled (exit ${outcome.exitCode})`
          : `exit code ${outcome.exitCode}`;
    const notes = [
      ...(outcome.stdoutTruncated ? ["stdout reached the output cap; the rest was dropped"] : []),
      ...(outcome.stderrTruncated ? ["stderr reached the output cap; the rest was dropped"] : []),
    ];
    const parts = [
      stdout.text.trimEnd(),
      stderr.text.trim() ? `[stderr]\n${stderr.text.trimEnd()}` : "",
      `[${ended}, ${seconds(outcome.durationMs)}${notes.length ? `; ${notes.join("; ")}` : ""}]`,
    ];
    return {
      summary:
        outcome.state === "timed_out"
          ? "Timed out"
          : outcome.state === "canceled"
            ? "Canceled"
            : `Exit ${outcome.exitCode} · ${seconds(outcome.durationMs)}`,
      output: parts.filter(Boolean).join("\n"),
      isError: outcome.state !== "succeeded",
      metadata: {
        command,
        exitCode: outcome.exitCode,
        state: outcome.state,
        durationMs: outcome.durationMs,
        stdoutTruncated: outcome.stdoutTruncated || stdout.clipped,
        stderrTruncated: outcome.stderrTruncated || stderr.clipped,
      },
    };
  },
});
