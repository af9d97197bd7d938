import type { RunError } from "@cybros/protocol";
import { and, asc, eq, getTableColumns, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { presentRun, type RunRow } from "../conversations/present.js";
import { type BatchStatement, batchStatement, builtOnce, columnPlaceholders, statementTemplate } from "../db/index.js";
import { conversationEvents, conversationRuns, nodes, runSteps } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import type { EventDraft } from "../realtime/index.js";
import type { Services } from "../services.js";
import { withdrawWaits } from "./steps/withdraw.js";

/**
 * Run and step rows: claiming a run with a lease, its steps, its waits and the one way it ends. A run that holds
 * a lease is advanced by that process; a run whose lease lapsed (its process died) or that nobody holds and that
 * waits on nothing is claimable by any process.
 */

export type StepRow = typeof runSteps.$inferSelect;
export type StepKind = StepRow["kind"];
export type RunOutcome = { state: "succeeded" } | { state: "failed"; error: RunError } | { state: "canceled" };

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** How long a claim lasts without renewal; the heartbeat renews it. */
export const LEASE_MS = 30_000;
const leaseEnd = sql`now() + make_interval(secs => ${LEASE_MS / 1000})`;

function isUniqueViolation(error: unknown): boolean {
  const code =
    (error as { code?: string; cause?: { code?: string } }).code ??
    (error as { cause?: { code?: string } }).cause?.code;
  return code === "23505";
}

const claimQuery = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  return db
    .update(conversationRuns)
    .set({
      state: "running",
      startedAt: sql`now()`,
      heartbeatAt: sql`now()`,
      leaseExpiresAt: leaseEnd,
      workerId: sql`${sql.placeholder("workerId")}::text`,
    })
    .where(
      and(
        eq(
          conversationRuns.id,
          sql`(
            SELECT id FROM conversation_runs
            WHERE conversation_id = ${conversationId}::uuid AND state = 'queued'
              AND NOT EXISTS (SELECT 1 FROM conversation_runs r WHERE r.conversation_id = ${conversationId}::uuid AND r.state = 'running')
            ORDER BY turn_seq, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
          )`,
        ),
        eq(conversationRuns.state, "queued"),
      ),
    )
    .returning({
      ...getTableColumns(conversationRuns),
      // The statement's snapshot still shows the claimed run as queued: it is left out by id. (Spelled out: Drizzle
      // would leave the column unqualified here, and it would name q's own.)
      moreQueued: sql<boolean>`exists (
        SELECT 1 FROM conversation_runs q
        WHERE q.conversation_id = ${conversationId}::uuid AND q.state = 'queued' AND q.id <> conversation_runs.id
      )`,
    })
    .prepare("claim_next_run");
});

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
  try {
    // One statement: the claim answers the whole row (the run starts one round trip sooner).
    const [claimed] = await claimQuery(services.db).execute({ conversationId, workerId });
    if (!claimed) return undefined;
    const { moreQueued, ...run } = claimed;
    return { run, moreQueued };
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
}

/** A running run that nobody holds, or whose holder's lease ended before `leaseEndedBefore`, and that waits on nothing. */
const resumable = (leaseEndedBefore: Date) =>
  and(
    eq(conversationRuns.state, "running"),
    or(isNull(conversationRuns.leaseExpiresAt), lt(conversationRuns.leaseExpiresAt, leaseEndedBefore)),
    sql`NOT EXISTS (SELECT 1 FROM ${runSteps} WHERE ${runSteps.runId} = ${conversationRuns.id} AND ${runSteps.state} = 'waiting')`,
  );

/** Takes the lease of a running run that may be resumed (see `resumable`); undefined when it may not, or someone was faster. */
export async function claimRun(
  services: Services,
  runId: string,
  workerId: string,
  leaseEndedBefore = new Date(),
): Promise<RunRow | undefined> {
  const [run] = await services.db
    .update(conversationRuns)
    .set({ workerId, leaseExpiresAt: leaseEnd, heartbeatAt: sql`now()` })
    .where(and(eq(conversationRuns.id, runId), resumable(leaseEndedBefore)))
    .returning();
  return run;
}

/** Running runs nobody is advancing (their process died, or their wait ended while nobody woke them). */
export async function abandonedRuns(services: Services, leaseEndedBefore = new Date()): Promise<string[]> {
  const rows = await services.db
    .select({ id: conversationRuns.id })
    .from(conversationRuns)
    .where(resumable(leaseEndedBefore))
    .orderBy(asc(conversationRuns.queuedAt));
  return rows.map((row) => row.id);
}

/** The heartbeat: the run is still advanced here, so its lease goes on. */
export async function renewLease(services: Services, run: RunRow, workerId: string): Promise<void> {
  await services.db
    .update(conversationRuns)
    .set({ heartbeatAt: new Date(), leaseExpiresAt: leaseEnd })
    .where(
      and(
        eq(conversationRuns.id, run.id),
        eq(conversationRuns.state, "running"),
        eq(conversationRuns.workerId, workerId),
      ),
    );
}

export async function findRun(services: Services, runId: string): Promise<RunRow> {
  if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new NotFoundError("Run");
  const [run] = await services.db.select().from(conversationRuns).where(eq(conversationRuns.id, runId));
  if (!run) throw new NotFoundError("Run");
  return run;
}

export async function stepsOf(services: Services, runId: string): Promise<StepRow[]> {
  return services.db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.ordinal));
}

/** The writes of steps, built once (decisions/0016), to go in the batch of the node or result they belong to. */
export const stepWrites = builtOnce((db) => ({
  /** A new step, or a new attempt of a step (same id): running again, with its new node. */
  save: statementTemplate<StepRow>(
    db
      .insert(runSteps)
      .values(columnPlaceholders(runSteps))
      .onConflictDoUpdate({
        target: runSteps.id,
        set: {
          state: sql`excluded.state`,
          attempt: sql`excluded.attempt`,
          nodeId: sql`excluded.node_id`,
          startedAt: sql`excluded.started_at`,
          finishedAt: sql`excluded.finished_at`,
        },
      }),
  ),
  succeed: statementTemplate<{ stepId: string; output: string; finishedAt: string }>(
    db
      .update(runSteps)
      .set({
        state: "succeeded",
        output: sql`${sql.placeholder("output")}::jsonb`,
        finishedAt: sql`${sql.placeholder("finishedAt")}::timestamptz`,
      })
      .where(and(eq(runSteps.id, sql.placeholder("stepId")), inArray(runSteps.state, ["running", "pending"])))
      .returning({ id: runSteps.id }),
    "some",
  ),
  /** The run waits: this process lets go of it, so whoever ends the wait can claim it. */
  releaseLease: statementTemplate<{ runId: string; workerId: string }>(
    db
      .update(conversationRuns)
      .set({ leaseExpiresAt: null, workerId: null })
      .where(
        and(
          eq(conversationRuns.id, sql.placeholder("runId")),
          eq(conversationRuns.state, "running"),
          eq(conversationRuns.workerId, sql`${sql.placeholder("workerId")}::text`),
        ),
      )
      .returning({ id: conversationRuns.id }),
    "some",
  ),
}));

/** A graceful stop: the run stays as its rows say, and the next process to start resumes it. */
export async function releaseRun(services: Services, run: RunRow, workerId: string): Promise<void> {
  await services.database.batch([stepWrites(services.db).releaseLease({ runId: run.id, workerId })]);
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
  const result = await services.database.query<{ run_id: string }>(
    `WITH resolved AS (
       UPDATE run_steps SET state = 'succeeded', output = $2::jsonb, finished_at = now()
       WHERE wait_key = $1 AND state = 'waiting'
       RETURNING run_id, input->>'toolStepId' AS tool_step_id
     ), waiter AS (
       UPDATE run_steps SET state = 'pending' FROM resolved
       WHERE run_steps.id = resolved.tool_step_id::uuid AND run_steps.state = 'waiting'
     )
     SELECT run_id FROM resolved`,
    [waitKey, JSON.stringify(output)],
  );
  const runIds = [...new Set(result.rows.map((row) => row.run_id))];
  for (const runId of runIds) services.runs.resume(runId);
  return runIds;
}

const NODE_STATE_FOR: Record<RunOutcome["state"], "finished" | "errored" | "stopped"> = {
  succeeded: "finished",
  failed: "errored",
  canceled: "stopped",
};
const STEP_STATE_FOR: Record<RunOutcome["state"], "succeeded" | "failed" | "canceled"> = {
  succeeded: "succeeded",
  failed: "failed",
  canceled: "canceled",
};

type Tx = Parameters<Parameters<Services["db"]["transaction"]>[0]>[0];

/**
 * Closes nodes left open: each keeps the text people already saw (`live`: the text streamed here, from
 * StreamWriter.abandonRun; else the persisted chunks, else what the node holds), its chunks are compacted, and a
 * stream_complete says so. Answers the events to record.
 */
export async function closeNodes(
  tx: Tx,
  run: Pick<RunRow, "id" | "conversationId" | "turnId">,
  open: { id: string; kind: string; content: string }[],
  state: "finished" | "errored" | "stopped",
  error: RunError | null,
  live: Map<string, string>,
): Promise<EventDraft[]> {
  const drafts: EventDraft[] = [];
  for (const node of open) {
    const streamed = live.get(node.id);
    let content = streamed ?? node.content;
    if (streamed === undefined && node.kind !== "task") {
      const chunks = await tx
        .select({ text: conversationEvents.text })
        .from(conversationEvents)
        .where(and(eq(conversationEvents.nodeId, node.id), eq(conversationEvents.kind, "stream_chunk")))
        .orderBy(asc(conversationEvents.seq));
      // The chunks hold what was persisted; the node may hold more (its runner saved the whole text).
      const persisted = chunks.map((c) => c.text ?? "").join("");
      if (persisted.length > content.length) content = persisted;
    }
    await tx
      .update(nodes)
      .set({ state, content, finishedAt: new Date(), ...(error ? { error } : {}) })
      .where(eq(nodes.id, node.id));
    await tx
      .delete(conversationEvents)
      .where(and(eq(conversationEvents.nodeId, node.id), eq(conversationEvents.kind, "stream_chunk")));
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
    const result = await services.database.batch([...ending.statements, batchStatement(closing.query)]);
    if (result.ok) {
      services.realtime.publish(closing.envelopes(result.results.at(-1)!.rows));
      return ending.ended;
    }
    if (result.unmet === 0) return undefined; // ended already
  }
  const error = outcome.state === "failed" ? outcome.error : null;
  const live = await services.streams.abandonRun(run.id);
  const result = await services.db.transaction(async (tx) => {
    // The select runs after the update has taken the run's row lock, so no node can be created for the run in
    // between. (One after the other: node-postgres deprecates a query sent while another runs.)
    const [ended] = await tx
      .update(conversationRuns)
      .set({ state: outcome.state, error, finishedAt: new Date(), activeNodeId: null, leaseExpiresAt: null })
      .where(and(eq(conversationRuns.id, run.id), inArray(conversationRuns.state, ["queued", "running"])))
      .returning();
    if (!ended) return undefined;
    const open = await tx
      .select({ id: nodes.id, kind: nodes.kind, content: nodes.content })
      .from(nodes)
      .where(and(eq(nodes.runId, run.id), inArray(nodes.state, ["pending", "running"])));
    const closedSteps = await tx
      .update(runSteps)
      .set({ state: STEP_STATE_FOR[outcome.state], finishedAt: new Date() })
      .where(and(eq(runSteps.runId, run.id), inArray(runSteps.state, ["pending", "running", "waiting"])))
      .returning({ kind: runSteps.kind, waitKey: runSteps.waitKey });
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

/** The statements of a run's usual end, built once (decisions/0016). */
const endStatements = builtOnce((db) => {
  const runId = sql.placeholder("runId");
  return {
    succeed: statementTemplate<{ runId: string; now: string }>(
      db
        .update(conversationRuns)
        .set({
          state: "succeeded",
          error: null,
          activeNodeId: null,
          leaseExpiresAt: null,
          finishedAt: sql`${sql.placeholder("now")}::timestamptz`,
          heartbeatAt: sql`${sql.placeholder("now")}::timestamptz`,
        })
        .where(and(eq(conversationRuns.id, runId), inArray(conversationRuns.state, ["queued", "running"])))
        .returning({ id: conversationRuns.id }),
      "some",
    ),
    noOpenNode: statementTemplate<{ runId: string }>(
      db
        .select({ id: nodes.id })
        .from(nodes)
        .where(and(eq(nodes.runId, runId), inArray(nodes.state, ["pending", "running"]))),
      "none",
    ),
    noOpenStep: statementTemplate<{ runId: string }>(
      db
        .select({ id: runSteps.id })
        .from(runSteps)
        .where(and(eq(runSteps.runId, runId), inArray(runSteps.state, ["pending", "running", "waiting"]))),
      "none",
    ),
  };
});

/**
 * endRun's usual success as statements, for the batch that closes the run's last node (the reply without tool
 * calls ends its run in the batch that finalizes it, decisions/0017): the run succeeds only while no node or step
 * of it is open (checked under the run's row lock), with its closing events. The summary is made from the claimed
 * row (its heartbeat is set to the end time, so nothing in it is stale).
 */
export function succeededEnding(
  services: Services,
  run: RunRow,
): { ended: RunRow; statements: BatchStatement[]; drafts: EventDraft[] } {
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
  const statements = endStatements(services.db);
  return {
    ended,
    statements: [
      statements.succeed({ runId: run.id, now: now.toISOString() }),
      statements.noOpenNode({ runId: run.id }),
      statements.noOpenStep({ runId: run.id }),
    ],
    drafts: [
      { ...base, kind: "typing_stop", payload: {} },
      { ...base, kind: "run_succeeded", payload: { run: presentRun(ended) } },
    ],
  };
}
