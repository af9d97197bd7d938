import { batchStatement } from "../../db/index.js";
import { uuidv7 } from "../../ids.js";
import { type StepRow, stepWrites } from "../store.js";
import { noteStep, type RunScope, stepRow } from "./scope.js";

/** The wait key of an approval: resolveWait(key, { approved, reason? }) answers it. */
export const approvalKey = (stepId: string) => `approval:${stepId}`;

/**
 * A tool call that needs a person's approval: an await_approval step waits for the answer, the tool call waits
 * on it, and the run is handed back in the same transaction, so it holds nothing while it waits.
 */
export async function requestApproval(
  scope: RunScope,
  toolStep: StepRow,
  request: { name: string; args: unknown },
): Promise<void> {
  const { services, run } = scope;
  const id = uuidv7();
  const wait = stepRow(scope, {
    id,
    kind: "await_approval",
    state: "waiting",
    waitKey: approvalKey(id),
    input: { toolStepId: toolStep.id, name: request.name, args: request.args as Record<string, unknown> },
  });
  const waiting: StepRow = { ...toolStep, state: "waiting" };
  const writes = stepWrites(services.db);
  const announcement = services.realtime.recording([
    {
      conversationId: run.conversationId,
      turnId: run.turnId,
      runId: run.id,
      nodeId: toolStep.nodeId,
      kind: "run_waiting",
      payload: { step: { id, kind: wait.kind, waitKey: wait.waitKey, input: wait.input } },
    },
  ]);
  const written = await services.database.batch([
    writes.save(wait),
    writes.save(waiting),
    writes.releaseLease({ runId: run.id, workerId: scope.workerId }),
    batchStatement(announcement.query),
  ]);
  if (!written.ok) return; // the run ended meanwhile
  noteStep(scope, wait);
  noteStep(scope, waiting);
  services.realtime.publish(announcement.envelopes(written.results.at(-1)!.rows));
}
