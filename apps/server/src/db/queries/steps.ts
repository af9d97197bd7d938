import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../index.js";
import { runSteps } from "../schema.js";
import { builtOnce, columnPlaceholders, statementTemplate, type Write } from "../statements.js";

/** A run's steps: what it did, what it does now, what it waits on. */

export type StepRow = typeof runSteps.$inferSelect;

const OPEN = ["pending", "running", "waiting"] as const;

/** Statements that run when called, on the database or inside a transaction. */
export function stepQueries(db: Db) {
  return {
    /** The run's steps in order. */
    of(runId: string): Promise<StepRow[]> {
      return db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.ordinal));
    },

    /**
     * Ends a wait: the step waiting on `waitKey` succeeds with `output` and the step that waited on it is pending
     * again, in one statement. Answers the runs it belongs to.
     */
    async resolveWait(waitKey: string, output: Record<string, unknown>): Promise<string[]> {
      const result = (await db.execute(sql`
        WITH resolved AS (
          UPDATE run_steps SET state = 'succeeded', output = ${JSON.stringify(output)}::jsonb, finished_at = now()
          WHERE wait_key = ${waitKey} AND state = 'waiting'
          RETURNING run_id, input->>'toolStepId' AS tool_step_id
        ), waiter AS (
          UPDATE run_steps SET state = 'pending' FROM resolved
          WHERE run_steps.id = resolved.tool_step_id::uuid AND run_steps.state = 'waiting'
        )
        SELECT run_id FROM resolved`)) as unknown as { rows?: { run_id: string }[] } | { run_id: string }[];
      const rows = Array.isArray(result) ? result : (result.rows ?? []);
      return [...new Set(rows.map((row) => row.run_id))];
    },

    /** Every step of the run not finished ends in `state`; answers what they were (a child run's wait, …). */
    closeOpen(
      runId: string,
      state: "succeeded" | "failed" | "canceled",
      at: Date,
    ): Promise<Pick<StepRow, "kind" | "waitKey">[]> {
      return db
        .update(runSteps)
        .set({ state, finishedAt: at })
        .where(and(eq(runSteps.runId, runId), inArray(runSteps.state, [...OPEN])))
        .returning({ kind: runSteps.kind, waitKey: runSteps.waitKey });
    },
  };
}

const writeTemplates = builtOnce((db) => ({
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
  succeed: statementTemplate<{ stepId: string; output: string; at: string }>(
    db
      .update(runSteps)
      .set({
        state: "succeeded",
        output: sql`${sql.placeholder("output")}::jsonb`,
        finishedAt: sql`${sql.placeholder("at")}::timestamptz`,
      })
      .where(and(eq(runSteps.id, sql.placeholder("stepId")), inArray(runSteps.state, ["running", "pending"])))
      .returning({ id: runSteps.id }),
    "some",
  ),
  noneOpen: statementTemplate<{ runId: string }>(
    db
      .select({ id: runSteps.id })
      .from(runSteps)
      .where(and(eq(runSteps.runId, sql.placeholder("runId")), inArray(runSteps.state, [...OPEN]))),
    "none",
  ),
}));

/** Writes for a batch (Database.write), to go with the node or result the step belongs to. */
export function stepWrites(db: Db) {
  const templates = writeTemplates(db);
  return {
    /** A new step, or a new attempt of a step (same id): its state, attempt, node and times as `step` has them. */
    save: (step: StepRow): Write => templates.save(step),
    /** The step succeeds with `output`, unless it is no longer running or pending (unmet). */
    succeed: ({ stepId, output, at }: { stepId: string; output: Record<string, unknown>; at: Date }): Write =>
      templates.succeed({ stepId, output: JSON.stringify(output), at: at.toISOString() }),
    /** Unmet while any step of the run is not finished. */
    noneOpen: (runId: string): Write => templates.noneOpen({ runId }),
  };
}
