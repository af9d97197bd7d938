import type { StepRow } from "../store.js";
import { awaited, waitOn } from "./await.js";
import type { RunScope } from "./scope.js";

/** A person's answer to an approval request, as resolveWait gets it. */
export interface ApprovalAnswer {
  approved: boolean;
  reason?: string;
}

/** Whether the agent program makes this tool wait for a person before each call. */
export function needsApproval(scope: RunScope, toolName: string): boolean {
  return scope.definition.manifest.tools.approval.includes(toolName);
}

/** The answer to this tool call's approval request, if one came. */
export function approvalOf(scope: RunScope, toolStep: StepRow): ApprovalAnswer | undefined {
  return awaited(scope, toolStep, "await_approval")?.output as ApprovalAnswer | undefined;
}

/** Asks for approval: the run waits (an await_approval step keyed `await_approval:<its id>`) holding nothing. */
export function requestApproval(scope: RunScope, toolStep: StepRow, request: { name: string; args: unknown }) {
  return waitOn(scope, toolStep, { kind: "await_approval", input: { name: request.name, args: request.args } });
}
