import type { RunError } from "@cybros/protocol";
import type { AgentDefinition } from "../../agents/loader.js";
import { type NodeRow, newNode, presentRun, type RunRow } from "../../conversations/present.js";
import type { Account } from "../../current.js";
import type { Write } from "../../db/index.js";
import { nodeWrites } from "../../db/queries/nodes.js";
import { runWrites } from "../../db/queries/runs.js";
import type { agentPrograms } from "../../db/schema.js";
import { uuidv7 } from "../../ids.js";
import { LlmError } from "../../llm/index.js";
import type { Embedder } from "../../memory/embedder.js";
import type { resolveModel } from "../../providers/resolve.js";
import type { EventDraft } from "../../realtime/index.js";
import type { Services } from "../../services.js";
import type { Tool } from "../../tools/define.js";
import type { StepRow } from "../store.js";
import { NotStartedHere, type UnwrittenSend } from "../unwritten-send.js";

/** Everything a step of one run needs, made once when the run is claimed. */
export interface RunScope {
  services: Services;
  run: RunRow;
  /** The send this run started before it was written: the run's first batch writes it. */
  send?: UnwrittenSend;
  workerId: string;
  signal: AbortSignal;
  account: Account;
  agent: typeof agentPrograms.$inferSelect;
  definition: AgentDefinition;
  choice: Awaited<ReturnType<typeof resolveModel>>;
  tools: Tool[];
  variables: Record<string, Record<string, unknown>>;
  /** The position of the turn's last node. */
  position: number;
  /** The run's steps as their rows say, in order; steps update it as they write. */
  steps: StepRow[];
  activity: RunActivity;
  /** run_started and typing_start are still to be announced: they go with the run's first node. */
  announceStart: boolean;
  embedder?: Embedder;
  onStarted?: () => void;
}

/** When the run last produced anything (a text delta, a tool call): the heartbeat warns when it goes quiet. */
export interface RunActivity {
  lastOutputAt: number;
}

/** A run that cannot go on, with the error it ends with. */
export class RunFailure extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

/** The run ended (canceled, reaped) while its runner was still going: it must not write anything more. */
export class RunEnded extends Error {}

export function toRunError(error: unknown): RunError {
  if (error instanceof RunFailure) return error.error;
  if (error instanceof LlmError) {
    return { code: error.code, message: error.message, ...(error.status ? { status: error.status } : {}) } as RunError;
  }
  return { code: "internal_error", message: "Something went wrong while running the agent." };
}

/** A new step row, or the next attempt of `previous`. */
export function stepRow(
  scope: RunScope,
  values: Pick<StepRow, "kind" | "state"> & Partial<StepRow>,
  previous?: StepRow,
): StepRow {
  const now = new Date();
  if (previous) return { ...previous, ...values, attempt: previous.attempt + 1, startedAt: now, finishedAt: null };
  return {
    id: uuidv7(),
    runId: scope.run.id,
    ordinal: (scope.steps.at(-1)?.ordinal ?? 0) + 1,
    attempt: 1,
    nodeId: null,
    input: {},
    output: null,
    waitKey: null,
    createdAt: now,
    startedAt: values.state === "running" ? now : null,
    finishedAt: null,
    ...values,
  };
}

/** Puts a step written to the database into the scope's list (a new attempt replaces the old row). */
export function noteStep(scope: RunScope, step: StepRow): void {
  const index = scope.steps.findIndex((s) => s.id === step.id);
  if (index >= 0) scope.steps[index] = step;
  else scope.steps.push(step);
}

/** run_started and typing_start while they are still to be announced (with the run's first write). */
export function startDrafts(scope: RunScope): EventDraft[] {
  if (!scope.announceStart) return [];
  const { run } = scope;
  const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
  return [
    { ...base, kind: "run_started", payload: { run: presentRun(run) } },
    { ...base, kind: "typing_start", payload: {} },
  ];
}

/**
 * A node of the run, made the run's active node, only while the run is still running: a cancel that finished the
 * run a moment earlier would never close a node made after it. The row lock orders this against endRun's update
 * of the run. The step that writes the node, and the events announcing it, go in the same transaction; the events
 * are published after it commits. The run's first node announces the run's start with it.
 */
export async function createNode(
  scope: RunScope,
  values: Pick<NodeRow, "kind" | "state" | "parentId" | "data"> & { id?: string },
  announce: (node: NodeRow) => EventDraft[],
  alongside: Write[] = [],
): Promise<NodeRow> {
  const { services, run } = scope;
  scope.position += 1;
  const node = newNode({
    ...values,
    id: values.id ?? uuidv7(),
    conversationId: run.conversationId,
    turnId: run.turnId,
    turnSeq: run.turnSeq,
    position: scope.position,
    runId: run.id,
  });
  const send = scope.send?.take();
  const announcement = services.realtime.recording([...(send?.drafts ?? []), ...startDrafts(scope), ...announce(node)]);
  const writing = services.database.write({
    ...send?.writes,
    node: nodeWrites(services.db).insert(node),
    active: runWrites(services.db).makeActive({ runId: run.id, nodeId: node.id }),
    alongside,
    events: announcement.write,
  });
  if (send) {
    const outcome = await writing.catch((failed: unknown) => ({ failed }));
    if (!(await scope.send!.settle(outcome))) throw new NotStartedHere();
  }
  const written = await writing;
  if (!written.ok) throw new RunEnded("The run ended before its next node was created");
  scope.announceStart = false;
  services.realtime.publish(announcement.envelopes(written.rows.events));
  return node;
}
