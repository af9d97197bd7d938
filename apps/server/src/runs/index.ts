import type { RunSummary } from "@cybros/protocol";
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { presentRun, type RunRow } from "../conversations/present.js";
import { conversationRuns, nodes } from "../db/schema.js";
import { ConflictError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import { abandonedRuns, endRun, findRun } from "./store.js";

export { endRun, findRun, resolveWait } from "./store.js";

/**
 * Cancel: a queued or waiting run ends at once; one advancing is aborted where it runs (this process or, through a
 * notification, another: the provider request or the tool stops) and ended here, so nothing more is broadcast for
 * it and no further step starts. Its waits are withdrawn with it (endRun closes every open step).
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
  const ended = await endRun(services, run, { state: "canceled" });
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

/**
 * The safety net behind wake-ups: resumes running runs nobody advances, whose process died (lease lapsed) or whose
 * wait ended without waking them. At a PGlite start every lease is from the previous process: `leaseEndedBefore`
 * far ahead takes them all.
 */
export async function resumeAbandonedRuns(services: Services, leaseEndedBefore = new Date()): Promise<number> {
  const runIds = await abandonedRuns(services, leaseEndedBefore);
  for (const runId of runIds) services.runs.resume(runId, leaseEndedBefore);
  return runIds.length;
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
