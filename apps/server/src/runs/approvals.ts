import type { ApprovalAnswer, RunSummary } from "@cybros/protocol";
import { and, eq } from "drizzle-orm";
import { answerDirectiveApproval } from "../conduits/approvals.js";
import { findOwned } from "../conversations/index.js";
import { presentRun, presentToolPart, type RunRow } from "../conversations/present.js";
import type { Current } from "../current.js";
import { directives, nodes, runSteps } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Services } from "../services.js";
import { patchTask } from "./steps/await-directive.js";
import { findRun, resolveWait } from "./store.js";

/**
 * A person answers an approval request (`POST /api/approvals/:id`). The id names either a command policy asked
 * about (its directive: approved, it is queued for its Nexus; rejected, it ends and the tool tells the model) or a
 * tool call the agent program asks about (its await_approval step: the call runs or is refused). The card drops
 * its request and approval_resolved says how it went; the run goes on in either case.
 */
export async function answerApproval(
  services: Services,
  current: Current,
  approvalId: string,
  answer: ApprovalAnswer,
): Promise<{ id: string; decision: "approved" | "rejected" }> {
  if (!/^[0-9a-f-]{36}$/i.test(approvalId)) throw new NotFoundError("Approval request");
  const decision = answer.approved ? "approved" : "rejected";
  const [directive] = await services.db
    .select({ id: directives.id, runStepId: directives.runStepId, accountId: directives.accountId })
    .from(directives)
    .where(eq(directives.id, approvalId));
  const waitStepId = directive ? directive.runStepId : approvalId;
  const [wait] = waitStepId ? await services.db.select().from(runSteps).where(eq(runSteps.id, waitStepId)) : [];
  if (!wait || (directive && directive.accountId !== current.account.id)) throw new NotFoundError("Approval request");
  const run = await findRun(services, wait.runId);
  await findOwned(services, current, run.conversationId);

  if (directive) {
    await answerDirectiveApproval(services, {
      directiveId: directive.id,
      approved: answer.approved,
      ...(answer.reason ? { reason: answer.reason } : {}),
      userId: current.user.id,
      accountId: current.account.id,
    });
  } else {
    const pending = wait.kind === "await_approval" && wait.state === "waiting" && wait.waitKey;
    const resolved = pending ? await resolveWait(services, wait.waitKey!, answer) : [];
    if (resolved.length === 0) throw new ConflictError("no_approval_pending", "Nothing waits for this approval");
  }
  await settleCard(services, wait, { approvalId, directiveId: directive?.id ?? null, decision });
  return { id: approvalId, decision };
}

/** The card of the call that waited: its request goes, and approval_resolved tells every open page. */
async function settleCard(
  services: Services,
  wait: typeof runSteps.$inferSelect,
  resolved: { approvalId: string; directiveId: string | null; decision: "approved" | "rejected" },
): Promise<void> {
  const toolStepId = (wait.input as { toolStepId?: string }).toolStepId;
  const [toolStep] = toolStepId ? await services.db.select().from(runSteps).where(eq(runSteps.id, toolStepId)) : [];
  if (!toolStep?.nodeId) return;
  const run = await findRun(services, wait.runId);
  const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id, nodeId: toolStep.nodeId };
  await services.database.batch([patchTask(services, toolStep.nodeId, { approval: null })]);
  const [task] = await services.db
    .select()
    .from(nodes)
    .where(and(eq(nodes.id, toolStep.nodeId), eq(nodes.kind, "task")));
  const messageId = (toolStep.input as { messageNodeId: string }).messageNodeId;
  await services.realtime.emit(services.db, [
    ...(task ? [{ ...base, kind: "tool_call" as const, payload: { messageId, part: presentToolPart(task) } }] : []),
    { ...base, kind: "approval_resolved", payload: resolved },
  ]);
}

/** `POST /api/runs/:id/approval`: answers whichever approval the run waits for. */
export async function answerRunApproval(
  services: Services,
  current: Current,
  run: RunRow,
  answer: ApprovalAnswer,
): Promise<RunSummary> {
  const waits = await services.db
    .select({ id: runSteps.id, kind: runSteps.kind, input: runSteps.input })
    .from(runSteps)
    .where(and(eq(runSteps.runId, run.id), eq(runSteps.state, "waiting")));
  const approval = waits.find((wait) => wait.kind === "await_approval");
  const directiveId = waits
    .filter((wait) => wait.kind === "await_directive")
    .map((wait) => (wait.input as { directive?: { id: string } }).directive?.id)
    .find(Boolean);
  const pendingDirective = directiveId
    ? (await services.db.select({ state: directives.state }).from(directives).where(eq(directives.id, directiveId)))[0]
    : undefined;
  const approvalId = approval?.id ?? (pendingDirective?.state === "awaiting_approval" ? directiveId : undefined);
  if (!approvalId) throw new ConflictError("no_approval_pending", "The run is not waiting for an approval");
  await answerApproval(services, current, approvalId, answer);
  return presentRun(await findRun(services, run.id));
}
