import type { RunError } from "@cybros/protocol";
import { presentRun, type RunRow } from "../conversations/present.js";
import type { Db } from "../db/index.js";
import { eventQueries } from "../db/queries/events.js";
import { nodeQueries, nodeWrites, type OpenNode } from "../db/queries/nodes.js";
import { runQueries, runWrites } from "../db/queries/runs.js";
import { type StepRow, stepQueries, stepWrites as stepWritesOf } from "../db/queries/steps.js";
import type { Write } from "../db/statements.js";
import { NotFoundError } from "../errors.js";
import type { EventDraft } from "../realtime/index.js";
import type { Services } from "../services.js";
import { withdrawWaits } from "./steps/withdraw.js";

/**
 * Run and step rows: claiming a run with a lease, its steps, its waits and the one way it ends. A run that holds
 * a lease is advanced by that process; a run whose lease lapsed (its process died) or that nobody holds and that
 * waits on nothing is claimable by any process.
 */

export type { StepRow } from "../db/queries/steps.js";
export type StepKind = StepRow["kind"];
export type RunOutcome = { state: "succeeded" } | { state: "failed"; error: RunError } | { state: "canceled" };

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** How long a claim lasts without renewal; the heartbeat renews it. */
export const LEASE_MS = 30_000;

/**
 * Atomically moves the conversation's oldest queued run to running under this process's lease, unless one is
 * running already. The partial unique index makes a lost race a no-op rather than a second running run.
 * `moreQueued`: other runs of the conversation were queued behind it when it was claimed.
 */
export async function claimNextRun(
  services: Services,
  conversationId: string,
  workerId: string,
): Promise<{ run: RunRow; moreQueued: boolean } | undefined> {
  return runQueries(services.db).claimNext({ conversationId, workerId, leaseMs: LEASE_MS });
}

/**
 * Takes the lease of a running run that nobody holds, or whose holder's lease ended before `leaseEndedBefore`, and
 * that waits on nothing; undefined when it may not be resumed, or someone was faster.
 */
export async function claimRun(
  services: Services,
  runId: string,
  workerId: string,
  leaseEndedBefore = new Date(),
): Promise<RunRow | undefined> {
  return runQueries(services.db).claimResumable({ runId, workerId, leaseMs: LEASE_MS, leaseEndedBefore });
}

/** Running runs nobody is advancing (their process died, or their wait ended while nobody woke them). */
export async function abandonedRuns(services: Services, leaseEndedBefore = new Date()): Promise<string[]> {
  return runQueries(services.db).abandoned(leaseEndedBefore);
}

/** The heartbeat: the run is still advanced here, so its lease goes on. */
export async function renewLease(services: Services, run: RunRow, workerId: string): Promise<boolean> {
  return runQueries(services.db).renewLease({ runId: run.id, workerId, leaseMs: LEASE_MS });
}

export async function findRun(services: Services, runId: string): Promise<RunRow> {
  if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new NotFoundError("Run");
  const run = await runQueries(services.db).find(runId);
  if (!run) throw new NotFoundError("Run");
  return run;
}

export async function stepsOf(services: Services, runId: string): Promise<StepRow[]> {
  return stepQueries(services.db).of(runId);
}

/**
 * The step writes as tool-call.ts and await.ts call them until they move to db/queries/ (use stepWrites and
 * runWrites from there).
 */
export function stepWrites(db: Db) {
  const steps = stepWritesOf(db);
  return {
    save: steps.save,
    succeed: ({ stepId, output, finishedAt }: { stepId: string; output: string; finishedAt: string }): Write =>
      steps.succeed({ stepId, output: JSON.parse(output), at: new Date(finishedAt) }),
    releaseLease: runWrites(db).releaseLease,
  };
}

/** A graceful stop: the run stays as its rows say, and the next process to start resumes it. */
export async function releaseRun(services: Services, run: RunRow, workerId: string): Promise<void> {
  await services.database.write({ release: runWrites(services.db).releaseLease({ runId: run.id, workerId }) });
}

/**
 * Ends a wait: the waiting step succeeds with `output`, the step that waited on it is runnable again, and the run
 * is woken where this is called (any process may continue it; the sweep catches a wake-up that was lost).
 * Answers the runs woken.
 */
export async function resolveWait(
  services: Services,
  waitKey: string,
  output: Record<string, unknown>,
): Promise<string[]> {
  const runIds = await stepQueries(services.db).resolveWait(waitKey, output);
  for (const runId of runIds) services.runs.resume(runId);
  return runIds;
}

const NODE_STATE_FOR: Record<RunOutcome["state"], "finished" | "errored" | "stopped"> = {
  succeeded: "finished",
  failed: "errored",
  canceled: "stopped",
};

/**
 * Closes nodes left open, inside the caller's transaction `tx`: each keeps the text people already saw (`live`:
 * the text streamed here, from StreamWriter.abandonRun; else the persisted chunks, else what the node holds), its
 * chunks are compacted, and a stream_complete says so. Answers the events to record.
 */
export async function closeNodes(
  tx: Db,
  run: Pick<RunRow, "id" | "conversationId" | "turnId">,
  open: OpenNode[],
  state: "finished" | "errored" | "stopped",
  error: RunError | null,
  live: Map<string, string>,
): Promise<EventDraft[]> {
  const drafts: EventDraft[] = [];
  const events = eventQueries(tx);
  for (const node of open) {
    const streamed = live.get(node.id);
    let content = streamed ?? node.content;
    if (streamed === undefined && node.kind !== "task") {
      // The chunks hold what was persisted; the node may hold more (its runner saved the whole text).
      const persisted = await events.chunkText(node.id);
      if (persisted.length > content.length) content = persisted;
    }
    await nodeQueries(tx).close(node.id, { state, content, error, at: new Date() });
    await events.dropChunks(node.id);
    if (node.kind === "task") continue;
    drafts.push({
      conversationId: run.conversationId,
      turnId: run.turnId,
      runId: run.id,
      nodeId: node.id,
      kind: "stream_complete",
      text: content,
      payload: { state, error },
    });
  }
  return drafts;
}

/**
 * The one way a run ends. In one transaction: the run (only while it is still queued or running, so a cancel and
 * a completion racing each other end it once), every node it left open with the text people saw, every step not
 * finished, and the closing events; published after the commit. The usual end, a reply that closed its node,
 * goes as one batch; anything left open takes the general path.
 */
export async function endRun(
  services: Services,
  run: RunRow,
  outcome: RunOutcome,
  extraEvents: EventDraft[] = [],
): Promise<RunRow | undefined> {
  if (outcome.state === "succeeded" && extraEvents.length === 0) {
    const ending = succeededEnding(services, run);
    const closing = services.realtime.recording(ending.drafts);
    const written = await services.database.write({ ...ending.writes, events: closing.write });
    if (written.ok) {
      services.realtime.publish(closing.envelopes(written.rows.events));
      return ending.ended;
    }
    if (written.unmet === "run") return undefined; // ended already
  }
  const error = outcome.state === "failed" ? outcome.error : null;
  const live = await services.streams.abandonRun(run.id);
  const result = await services.db.transaction(async (tx) => {
    // The select runs after the update has taken the run's row lock, so no node can be created for the run in
    // between. (One after the other: node-postgres deprecates a query sent while another runs.)
    const ended = await runQueries(tx).end({ runId: run.id, state: outcome.state, error, at: new Date() });
    if (!ended) return undefined;
    const open = await nodeQueries(tx).openOf(run.id);
    const closedSteps = await stepQueries(tx).closeOpen(run.id, outcome.state, new Date());
    const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
    const drafts: EventDraft[] = [
      ...extraEvents,
      ...(await closeNodes(tx, run, open, NODE_STATE_FOR[outcome.state], error, live)),
      { ...base, kind: "typing_stop", payload: {} },
      outcome.state === "failed"
        ? { ...base, kind: "run_failed", payload: { run: presentRun(ended), error: outcome.error } }
        : {
            ...base,
            kind: outcome.state === "succeeded" ? "run_succeeded" : "run_canceled",
            payload: { run: presentRun(ended) },
          },
    ];
    const events = await services.realtime.record(tx, drafts);
    return { ended, events, waits: closedSteps.map((step) => step.waitKey) };
  });
  if (!result) return undefined;
  services.realtime.publish(result.events);
  await withdrawWaits(services, result.waits);
  return result.ended;
}

/**
 * endRun's usual success as named writes, for the batch that closes the run's last node (the reply without tool
 * calls ends its run in the batch that finalizes it, decisions/0017): the run succeeds (`run`, unmet when it ended
 * already) only while no node or step of it is open (checked under the run's row lock), with its closing events.
 * The summary is made from the claimed row (its heartbeat is set to the end time, so nothing in it is stale).
 */
export function succeededEnding(
  services: Services,
  run: RunRow,
): { ended: RunRow; writes: { run: Write; noOpenNode: Write; noOpenStep: Write }; drafts: EventDraft[] } {
  const now = new Date();
  const ended: RunRow = {
    ...run,
    state: "succeeded",
    error: null,
    activeNodeId: null,
    leaseExpiresAt: null,
    finishedAt: now,
    heartbeatAt: now,
  };
  const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
  return {
    ended,
    writes: {
      run: runWrites(services.db).succeed({ runId: run.id, at: now }),
      noOpenNode: nodeWrites(services.db).noneOpen(run.id),
      noOpenStep: stepWritesOf(services.db).noneOpen(run.id),
    },
    drafts: [
      { ...base, kind: "typing_stop", payload: {} },
      { ...base, kind: "run_succeeded", payload: { run: presentRun(ended) } },
    ],
  };
}
