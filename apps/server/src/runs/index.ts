import type { RunError, RunSummary } from "@cybros/protocol";
import { and, asc, eq, getTableColumns, inArray, isNull, lt, sql } from "drizzle-orm";
import { presentRun, type RunRow } from "../conversations/present.js";
import { type BatchStatement, batchStatement, builtOnce, statementTemplate } from "../db/index.js";
import { conversationEvents, conversationRuns, nodes } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { EventDraft } from "../realtime/index.js";
import type { Services } from "../services.js";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A running run whose heartbeat is older than this is presumed dead and failed by the reaper. */
export const STALE_AFTER_MS = 45_000;

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
 * Atomically moves the conversation's oldest queued run to running, unless one is running already. The partial
 * unique index makes a lost race a no-op rather than a second running run. `moreQueued`: other runs of the
 * conversation were queued behind it when it was claimed.
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

export async function findRun(services: Services, runId: string): Promise<RunRow> {
  if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new NotFoundError("Run");
  const [run] = await services.db.select().from(conversationRuns).where(eq(conversationRuns.id, runId));
  if (!run) throw new NotFoundError("Run");
  return run;
}

/**
 * Ends a run and every node it left unfinished, with its closing events, in one transaction. Conditional on the
 * run still being active, so a cancel and a completion racing each other end it exactly once.
 */
export async function finishRun(
  services: Services,
  run: Pick<RunRow, "id" | "conversationId" | "turnId">,
  outcome: { state: "succeeded" } | { state: "failed"; error: RunError } | { state: "canceled" },
  extraEvents: EventDraft[] = [],
): Promise<RunRow | undefined> {
  const nodeState = outcome.state === "failed" ? "errored" : outcome.state === "canceled" ? "stopped" : "finished";
  const error = outcome.state === "failed" ? outcome.error : null;
  const result = await services.db.transaction(async (tx) => {
    // The select runs after the update has taken the run's row lock, so no node can be created for the run in
    // between. (One after the other: node-postgres deprecates a query sent while another runs; this path is rare,
    // the usual end is finishSucceededRun.)
    const [ended] = await tx
      .update(conversationRuns)
      .set({ state: outcome.state, error, finishedAt: new Date(), activeNodeId: null })
      .where(and(eq(conversationRuns.id, run.id), inArray(conversationRuns.state, ["queued", "running"])))
      .returning();
    if (!ended) return undefined;
    const open = await tx
      .select({ id: nodes.id, kind: nodes.kind, content: nodes.content })
      .from(nodes)
      .where(and(eq(nodes.runId, run.id), inArray(nodes.state, ["pending", "running"])));
    const unfinished: { id: string; kind: string; content: string }[] = [];
    for (const node of open) {
      // Keep the text people already saw: the live buffer here, else the persisted chunks; then compact them.
      const live = services.streams.streamOf(node.id);
      if (live) services.streams.abandon(live);
      let content = live?.text ?? node.content;
      if (!live && node.kind !== "task") {
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
        .set({ state: nodeState, content, finishedAt: new Date(), ...(error ? { error } : {}) })
        .where(eq(nodes.id, node.id));
      await tx
        .delete(conversationEvents)
        .where(and(eq(conversationEvents.nodeId, node.id), eq(conversationEvents.kind, "stream_chunk")));
      unfinished.push({ ...node, content });
    }
    const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
    const drafts: EventDraft[] = [...extraEvents];
    for (const node of unfinished) {
      if (node.kind === "task") continue;
      drafts.push({
        ...base,
        nodeId: node.id,
        kind: "stream_complete",
        text: node.content,
        payload: { state: nodeState, error },
      });
    }
    drafts.push({ ...base, kind: "typing_stop", payload: {} });
    const summary = presentRun(ended);
    drafts.push(
      outcome.state === "failed"
        ? { ...base, kind: "run_failed", payload: { run: summary, error: outcome.error } }
        : {
            ...base,
            kind: outcome.state === "succeeded" ? "run_succeeded" : "run_canceled",
            payload: { run: summary },
          },
    );
    const events = await services.realtime.record(tx, drafts);
    return { ended, events };
  });
  if (!result) return undefined;
  services.realtime.publish(result.events);
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
  };
});

/**
 * The usual end of a run that answered with every node closed, as statements for a batch: the run succeeds, no
 * node of it may still be open (found under the run's row lock), and the closing events. The run's summary is
 * made from the claimed row (its heartbeat is set to the end time, so nothing in it is stale).
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
    ],
    drafts: [
      { ...base, kind: "typing_stop", payload: {} },
      { ...base, kind: "run_succeeded", payload: { run: presentRun(ended) } },
    ],
  };
}

/**
 * finishRun for the usual end, in one batch, so the transaction holds the database only while it runs. The run
 * already ended leaves it as it is; a node still open means the general path.
 */
export async function finishSucceededRun(services: Services, run: RunRow): Promise<RunRow | undefined> {
  const ending = succeededEnding(services, run);
  const closing = services.realtime.recording(ending.drafts);
  const outcome = await services.database.batch([...ending.statements, batchStatement(closing.query)]);
  if (!outcome.ok) return outcome.unmet === 0 ? undefined : finishRun(services, run, { state: "succeeded" });
  services.realtime.publish(closing.envelopes(outcome.results[2]!.rows));
  return ending.ended;
}

/**
 * Cancel: a queued run ends at once; a running one is aborted where it runs (this process or, through a
 * notification, another) and ended here, so nothing more is broadcast for it.
 */
export async function cancelRun(services: Services, run: RunRow): Promise<RunSummary> {
  if (run.state !== "queued" && run.state !== "running") {
    throw new ConflictError("run_not_active", `The run is already ${run.state}`);
  }
  await services.db
    .update(conversationRuns)
    .set({ cancelRequestedAt: new Date() })
    .where(eq(conversationRuns.id, run.id));
  await services.runs.abort(run.id);
  const ended = await finishRun(services, run, { state: "canceled" });
  const latest = ended ?? (await findRun(services, run.id));
  await services.runs.kick(run.conversationId);
  return presentRun(latest);
}

const MAX_ATTEMPTS_PER_TURN = 10;

/**
 * Retry: a new run for the same turn. The nodes of earlier attempts are superseded, so the new reply replaces
 * them in the transcript and no later prompt sees the stale one. A finished reply can be regenerated the same way.
 */
export async function retryRun(services: Services, run: RunRow): Promise<RunSummary> {
  if (run.state === "queued" || run.state === "running") {
    throw new ConflictError("run_still_active", "The run is still in progress; stop it first");
  }
  const result = await services.db.transaction(async (tx) => {
    const attempts = await tx
      .select({ id: conversationRuns.id, state: conversationRuns.state })
      .from(conversationRuns)
      .where(eq(conversationRuns.turnId, run.turnId));
    if (attempts.some((a) => a.state === "queued" || a.state === "running")) {
      throw new ConflictError("retry_already_queued", "A retry of this turn is already in progress");
    }
    if (attempts.length >= MAX_ATTEMPTS_PER_TURN) {
      throw new ConflictError("retry_limit_reached", `A turn can be attempted ${MAX_ATTEMPTS_PER_TURN} times at most`);
    }
    const superseded = await tx
      .update(nodes)
      .set({ supersededAt: new Date() })
      .where(and(eq(nodes.turnId, run.turnId), isNull(nodes.supersededAt), sql`${nodes.kind} <> 'user_message'`))
      .returning({ id: nodes.id });
    const [next] = await tx
      .insert(conversationRuns)
      .values({
        id: uuidv7(),
        conversationId: run.conversationId,
        turnId: run.turnId,
        turnSeq: run.turnSeq,
        state: "queued",
        retryOfId: run.id,
      })
      .returning();
    const events = await services.realtime.record(tx, [
      {
        conversationId: run.conversationId,
        turnId: run.turnId,
        runId: next!.id,
        kind: "run_queued",
        payload: { run: presentRun(next!), supersededNodeIds: superseded.map((n) => n.id) },
      },
    ]);
    return { next: next!, events };
  });
  services.realtime.publish(result.events);
  await services.runs.enqueue(run.conversationId, result.next.id);
  return presentRun(result.next);
}

/** Fails runs whose heartbeat went stale (their process died) and starts what was queued behind them. */
export async function reapStaleRuns(services: Services, staleAfterMs = STALE_AFTER_MS): Promise<number> {
  const stale = await services.db
    .select()
    .from(conversationRuns)
    .where(
      and(eq(conversationRuns.state, "running"), lt(conversationRuns.heartbeatAt, new Date(Date.now() - staleAfterMs))),
    )
    .orderBy(asc(conversationRuns.queuedAt));
  return failRuns(services, stale, {
    code: "stale_run",
    message: "The run stopped responding (its worker went away). Retry to run it again.",
  });
}

/** Starts queued runs that nothing started (their process died between commit and wake-up). */
export async function startOrphanedRuns(services: Services, olderThanMs = 10_000): Promise<number> {
  const orphans = await services.db
    .selectDistinct({ conversationId: conversationRuns.conversationId })
    .from(conversationRuns)
    .where(
      and(
        eq(conversationRuns.state, "queued"),
        lt(conversationRuns.queuedAt, new Date(Date.now() - olderThanMs)),
        sql`NOT EXISTS (SELECT 1 FROM conversation_runs r WHERE r.conversation_id = ${conversationRuns.conversationId} AND r.state = 'running')`,
      ),
    );
  for (const { conversationId } of orphans) await services.runs.kick(conversationId);
  return orphans.length;
}

/** At start, PGlite's single process knows every running run was interrupted: fail them now, retryable. */
export async function failInterruptedRuns(services: Services): Promise<number> {
  const running = await services.db.select().from(conversationRuns).where(eq(conversationRuns.state, "running"));
  return failRuns(services, running, {
    code: "interrupted",
    message: "The server restarted while this reply was being written. Retry to run it again.",
  });
}

async function failRuns(services: Services, runs: RunRow[], error: RunError): Promise<number> {
  let failed = 0;
  for (const run of runs) {
    const ended = await finishRun(services, run, { state: "failed", error }, [
      { conversationId: run.conversationId, turnId: run.turnId, runId: run.id, kind: "run_stuck", payload: { error } },
    ]);
    if (ended) {
      failed++;
      services.log.warn(
        { runId: run.id, conversationId: run.conversationId, code: error.code },
        "run failed by the reaper",
      );
      await services.runs.kick(run.conversationId);
    }
  }
  return failed;
}
