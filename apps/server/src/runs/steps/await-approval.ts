import type { PendingApproval } from "@cybros/protocol";
import type { TaskData } from "../../conversations/present.js";
import { uuidv7 } from "../../ids.js";
import type { StepRow } from "../store.js";
import { awaited, waitOn } from "./await.js";
import { cardDraft, patchTask } from "./await-directive.js";
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

/**
 * Asks for approval: the run waits (an await_approval step keyed `await_approval:<its id>`) holding nothing; the
 * card shows the request, answered at `POST /api/approvals/<the step's id>`.
 */
export function requestApproval(scope: RunScope, toolStep: StepRow, task: TaskData) {
  const id = uuidv7();
  const approval: PendingApproval = {
    id,
    command: `${task.name} ${JSON.stringify(task.args ?? {})}`,
    cwd: null,
    reasons: [`${scope.definition.manifest.name} asks before each ${task.name} call (tools.approval in agent.yml)`],
  };
  const card = cardDraft(scope, toolStep, { ...task, approval });
  return waitOn(scope, toolStep, {
    kind: "await_approval",
    id,
    input: { name: task.name, args: task.args },
    alongside: [patchTask(scope.services, toolStep.nodeId!, { approval })],
    announce: [card, { ...card, kind: "approval_requested", payload: { approval, directiveId: null } }],
  });
}
