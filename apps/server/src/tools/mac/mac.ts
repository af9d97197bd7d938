import type { DirectiveRequest } from "@cybros/protocol";
import { darwinWorkspace } from "../../workspaces/index.js";
import { type DirectiveOutcome, type RunDirective, type ToolContext, ToolError, type ToolResult } from "../define.js";

/** A macOS command as a directive on the account's Mac (workspaces darwinWorkspace); none online → the tool says so. */
export async function onTheMac(context: ToolContext, request: DirectiveRequest): Promise<RunDirective> {
  const workspace = await darwinWorkspace(context.services, context.account.id);
  if ("missing" in workspace) throw new ToolError(workspace.missing);
  return { directive: { facilityId: workspace.facilityId, request: { timeout_seconds: 120, ...request } } };
}

/** The result of a macOS command that did not succeed, saying why in words the model can act on; undefined if it did. */
export function failureOf(outcome: DirectiveOutcome, doing: string): ToolResult | undefined {
  if (outcome.state === "succeeded") return undefined;
  const started = typeof outcome.result?.error === "string" ? outcome.result.error : "";
  const said = (outcome.stderr.trim() || outcome.stdout.trim() || started).slice(-4_000);
  const why =
    outcome.state === "timed_out"
      ? "it took too long and was stopped"
      : outcome.state === "canceled"
        ? outcome.endReason === "rejected"
          ? "the person did not approve it"
          : "it was stopped before it finished"
        : outcome.exitCode !== null
          ? `exit code ${outcome.exitCode}`
          : "it could not start on the Mac";
  return {
    summary: `Failed: ${why}`,
    output: `${doing} failed: ${why}.${said ? `\n${said}` : ""}`,
    isError: true,
    metadata: { state: outcome.state, exitCode: outcome.exitCode },
  };
}
