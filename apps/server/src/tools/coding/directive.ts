import {
  type CodingOperation,
  type CodingOperationName,
  type DirectiveRequest,
  type OperationResult,
  operationError,
  operationResult,
} from "@cybros/protocol";
import { workspaceFor } from "../../workspaces/index.js";
import type { DirectiveOutcome, RunDirective, ToolContext, ToolResult } from "../define.js";

/**
 * A coding tool's answer: its directive in the conversation's workspace, or, without one, a result that says how
 * to set one.
 */
export async function inWorkspace(context: ToolContext, request: DirectiveRequest): Promise<RunDirective | ToolResult> {
  const workspace = await workspaceFor(context.services, {
    accountId: context.account.id,
    conversationId: context.conversationId,
    agentId: context.agent.id,
  });
  if ("missing" in workspace) return { summary: "No workspace", output: workspace.missing, isError: true };
  return { directive: { facilityId: workspace.facilityId, request } };
}

/** File work the Nexus performs itself: no process, so a short timeout is plenty. */
export function operationRequest(operation: CodingOperation): DirectiveRequest {
  return { command: { operation }, timeout_seconds: 60 };
}

const NOT_RUN: Record<string, string> = {
  canceled_before_start: "It was canceled before it started.",
  territory_revoked: "The machine it was to run on was removed from Cybros.",
  lease_lapsed: "The machine running it stopped answering, so it was given up.",
  timeout: "It ran past its time limit on a machine that stopped answering.",
};

/**
 * The result for a directive that never ran to an end of its own: refused by a person or by policy, canceled
 * before it started, lost with its machine. Undefined when it ran (whatever its exit code).
 */
export function notRun(outcome: DirectiveOutcome): ToolResult | undefined {
  if (outcome.exitCode !== null || outcome.state === "succeeded") return undefined;
  const reason = outcome.endReason ?? "";
  if (reason.startsWith("rejected")) {
    return {
      summary: "Rejected",
      output: `A person rejected this, so it did not run. ${detail(reason)}`.trim(),
      isError: true,
    };
  }
  if (reason.startsWith("forbidden")) {
    return {
      summary: "Forbidden",
      output: `The policy forbids this, so it did not run. ${detail(reason)}`.trim(),
      isError: true,
    };
  }
  if (outcome.state === "timed_out") {
    return { summary: "Timed out", output: NOT_RUN[reason] ?? "It timed out.", isError: true };
  }
  if (outcome.state === "canceled") {
    return { summary: "Canceled", output: NOT_RUN[reason] ?? "It was canceled.", isError: true };
  }
  // Failed without an exit code: the Nexus could not start it; its reason is the result's error.
  const error = operationError.safeParse(outcome.result);
  const why = error.success ? error.data.error : (NOT_RUN[reason] ?? outcome.stderr.trim());
  return {
    summary: "Could not run",
    output: `It could not run: ${why.replace(/\.$/, "") || "no reason given"}.`,
    isError: true,
  };
}

/** "rejected: too risky" → "Reason: too risky" */
function detail(reason: string): string {
  const text = reason.replace(/^(rejected|forbidden)[:\s-]*/, "").trim();
  return text ? `Reason: ${text}` : "";
}

/**
 * A coding operation's result from its directive's outcome: `present` makes the tool's result from the Nexus's
 * answer; a refusal (exit 1 with `{error}`), a timeout, a cancel or a directive that never ran is an error
 * result saying why.
 */
export function finishOperation<N extends CodingOperationName>(
  outcome: DirectiveOutcome,
  op: N,
  present: (result: Extract<OperationResult, { op: N }>) => ToolResult,
): ToolResult {
  const early = notRun(outcome);
  if (early) return early;
  if (outcome.state === "succeeded") {
    const parsed = operationResult.safeParse(outcome.result);
    if (parsed.success && parsed.data.op === op) return present(parsed.data as Extract<OperationResult, { op: N }>);
    return { output: "The Nexus answered with a result this server does not understand.", isError: true };
  }
  if (outcome.state === "timed_out") return { summary: "Timed out", output: "It timed out.", isError: true };
  if (outcome.state === "canceled") return { summary: "Canceled", output: "It was canceled.", isError: true };
  const refused = operationError.safeParse(outcome.result);
  return { output: refused.success ? refused.data.error : `It failed (exit ${outcome.exitCode}).`, isError: true };
}

/** "1 file", "3 files"; `many` for words that do not just take an s. */
export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}
