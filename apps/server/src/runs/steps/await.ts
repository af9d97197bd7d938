import { type BatchStatement, batchStatement } from "../../db/index.js";
import { uuidv7 } from "../../ids.js";
import type { EventDraft } from "../../realtime/index.js";
import { type StepRow, stepWrites } from "../store.js";
import { noteStep, type RunScope, stepRow } from "./scope.js";

export type AwaitKind = Extract<StepRow["kind"], `await_${string}`>;

/**
 * A tool call waits on something outside the run: an await step records what (its kind and wait key), the tool
 * call waits on it, and the run is handed back in the same transaction, so it holds nothing while it waits.
 * resolveWait(key, output) ends the wait; the tool call then runs again and reads the await step's output.
 * `key` defaults to `<kind>:<the await step's id>`. With no tool step the run itself waits (a hook before a
 * model call): the executor reads the await step's output when it goes on.
 */
export async function waitOn(
  scope: RunScope,
  toolStep: StepRow | null,
  request: {
    kind: AwaitKind;
    id?: string;
    key?: string;
    input: Record<string, unknown>;
    /** Written in the same transaction: what is awaited (a directive), the card's new state. */
    alongside?: BatchStatement[];
    announce?: EventDraft[];
  },
): Promise<boolean> {
  const { services, run } = scope;
  const id = request.id ?? uuidv7();
  const wait = stepRow(scope, {
    id,
    kind: request.kind,
    state: "waiting",
    waitKey: request.key ?? `${request.kind}:${id}`,
    input: toolStep ? { ...request.input, toolStepId: toolStep.id } : request.input,
  });
  const waiting: StepRow | null = toolStep && { ...toolStep, state: "waiting" };
  const writes = stepWrites(services.db);
  const announcement = services.realtime.recording([
    ...(request.announce ?? []),
    {
      conversationId: run.conversationId,
      turnId: run.turnId,
      runId: run.id,
      nodeId: toolStep?.nodeId ?? null,
      kind: "run_waiting",
      payload: { step: { id, kind: wait.kind, waitKey: wait.waitKey, input: wait.input } },
    },
  ]);
  const written = await services.database.batch([
    writes.save(wait),
    ...(waiting ? [writes.save(waiting)] : []),
    writes.releaseLease({ runId: run.id, workerId: scope.workerId }),
    ...(request.alongside ?? []),
    batchStatement(announcement.query),
  ]);
  if (!written.ok) return false; // the run ended meanwhile: nothing was written
  noteStep(scope, wait);
  if (waiting) noteStep(scope, waiting);
  services.realtime.publish(announcement.envelopes(written.results.at(-1)!.rows));
  return true;
}

/** The outcome of the wait a tool call's step was waiting on, once it ended. */
export function awaited(scope: RunScope, toolStep: StepRow, kind?: AwaitKind): StepRow | undefined {
  return scope.steps.find(
    (step) =>
      step.kind.startsWith("await_") &&
      (!kind || step.kind === kind) &&
      step.input.toolStepId === toolStep.id &&
      step.state === "succeeded",
  );
}
