import type { RunError } from "@cybros/protocol";
import { and, asc, desc, eq, getTableColumns, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { isUniqueViolation } from "../errors.js";
import type { Db } from "../index.js";
import { accounts, agentPrograms, conversationRuns, conversations, nodes, runSteps, users } from "../schema.js";
import { builtOnce, statementTemplate, type Write } from "../statements.js";

/**
 * Conversation runs: the claim and its lease, what a run is about, the run's end. A run that holds a lease is
 * advanced by that process; a run whose lease lapsed, or that nobody holds and that waits on nothing, is claimable.
 */

export type RunRow = typeof conversationRuns.$inferSelect;
type Lease = { workerId: string; leaseMs: number };

const leaseEnd = (leaseMs: number) => sql`now() + make_interval(secs => ${leaseMs / 1000})`;

/** A running run that nobody holds, or whose holder's lease ended before `leaseEndedBefore`, and that waits on nothing. */
const resumable = (leaseEndedBefore: Date) =>
  and(
    eq(conversationRuns.state, "running"),
    or(isNull(conversationRuns.leaseExpiresAt), lt(conversationRuns.leaseExpiresAt, leaseEndedBefore)),
    sql`NOT EXISTS (SELECT 1 FROM ${runSteps} WHERE ${runSteps.runId} = ${conversationRuns.id} AND ${runSteps.state} = 'waiting')`,
  );

const claimNextQuery = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  return db
    .update(conversationRuns)
    .set({
      state: "running",
      startedAt: sql`now()`,
      heartbeatAt: sql`now()`,
      leaseExpiresAt: sql`now() + make_interval(secs => ${sql.placeholder("leaseSeconds")})`,
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

const startBlockedQuery = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  return db
    .select({
      blocked: sql<boolean>`exists (
        SELECT 1 FROM ${conversationRuns}
        WHERE ${conversationRuns.conversationId} = ${conversationId} AND ${conversationRuns.state} IN ('queued', 'running')
      ) OR exists (
        SELECT 1 FROM ${nodes}
        WHERE ${nodes.conversationId} = ${conversationId} AND ${nodes.kind} = 'user_message'
          AND ${nodes.data}->>'clientMessageId' = ${sql.placeholder("clientMessageId")}::text
      )`,
    })
    .from(sql`(SELECT 1) AS one`)
    .prepare("run_start_blocked");
});

const subjectQuery = builtOnce((db) =>
  db
    .select({
      conversation: conversations,
      agent: agentPrograms,
      account: accounts,
      user: users,
      maxPosition: sql<number>`(SELECT coalesce(max(${nodes.position}), 0)::int FROM ${nodes} WHERE ${nodes.turnId} = ${sql.placeholder("turnId")})`,
    })
    .from(conversations)
    .innerJoin(agentPrograms, eq(agentPrograms.id, conversations.agentProgramId))
    .innerJoin(accounts, eq(accounts.id, conversations.accountId))
    .innerJoin(users, eq(users.id, conversations.userId))
    .where(eq(conversations.id, sql.placeholder("conversationId")))
    .prepare("run_subject"),
);

/** Statements that run when called, on the database or inside a transaction. */
export function runQueries(db: Db) {
  return {
    /**
     * Whether a send's run may not start before the send is written: another run of the conversation is queued or
     * running (waiting, or in another process), or a message with this clientMessageId was sent already.
     */
    async startBlocked({
      conversationId,
      clientMessageId,
    }: {
      conversationId: string;
      clientMessageId: string | null;
    }): Promise<boolean> {
      const [row] = await startBlockedQuery(db).execute({ conversationId, clientMessageId });
      return Boolean(row?.blocked);
    },

    /**
     * Moves the conversation's oldest queued run to running under this lease, unless one is running already; one
     * statement that answers the whole row. A lost race is a no-op (the partial unique index), answered undefined.
     * `moreQueued`: other runs of the conversation were queued behind it.
     */
    async claimNext({
      conversationId,
      workerId,
      leaseMs,
    }: { conversationId: string } & Lease): Promise<{ run: RunRow; moreQueued: boolean } | undefined> {
      try {
        const [claimed] = await claimNextQuery(db).execute({ conversationId, workerId, leaseSeconds: leaseMs / 1000 });
        if (!claimed) return undefined;
        const { moreQueued, ...run } = claimed;
        return { run, moreQueued };
      } catch (error) {
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },

    /** Takes the lease of a running run that may be resumed; undefined when it may not, or someone was faster. */
    async claimResumable({
      runId,
      workerId,
      leaseMs,
      leaseEndedBefore,
    }: { runId: string; leaseEndedBefore: Date } & Lease): Promise<RunRow | undefined> {
      const [run] = await db
        .update(conversationRuns)
        .set({ workerId, leaseExpiresAt: leaseEnd(leaseMs), heartbeatAt: sql`now()` })
        .where(and(eq(conversationRuns.id, runId), resumable(leaseEndedBefore)))
        .returning();
      return run;
    },

    /** Running runs nobody is advancing, oldest first. */
    async abandoned(leaseEndedBefore: Date): Promise<string[]> {
      const rows = await db
        .select({ id: conversationRuns.id })
        .from(conversationRuns)
        .where(resumable(leaseEndedBefore))
        .orderBy(asc(conversationRuns.queuedAt));
      return rows.map((row) => row.id);
    },

    /** The lease goes on while the run is still running and held by `workerId`. */
    /** Answers whether it did: false once another process holds the run or it ended. */
    async renewLease({ runId, workerId, leaseMs }: { runId: string } & Lease): Promise<boolean> {
      const renewed = await db
        .update(conversationRuns)
        .set({ heartbeatAt: new Date(), leaseExpiresAt: leaseEnd(leaseMs) })
        .where(
          and(
            eq(conversationRuns.id, runId),
            eq(conversationRuns.state, "running"),
            eq(conversationRuns.workerId, workerId),
          ),
        )
        .returning({ id: conversationRuns.id });
      return renewed.length > 0;
    },

    async find(runId: string): Promise<RunRow | undefined> {
      const [run] = await db.select().from(conversationRuns).where(eq(conversationRuns.id, runId));
      return run;
    },

    /** What a run is about: its conversation, agent program, account and user, and where its turn's nodes end. */
    async subject({ conversationId, turnId }: { conversationId: string; turnId: string }) {
      const [subject] = await subjectQuery(db).execute({ conversationId, turnId });
      return subject;
    },

    /** The conversation's runs still queued or running. */
    async unfinishedOf(conversationId: string): Promise<string[]> {
      const rows = await db
        .select({ id: conversationRuns.id })
        .from(conversationRuns)
        .where(
          and(
            eq(conversationRuns.conversationId, conversationId),
            inArray(conversationRuns.state, ["queued", "running"]),
          ),
        );
      return rows.map((row) => row.id);
    },

    /** The run doing work now: the running one, else the oldest queued. */
    async activeOf(conversationId: string): Promise<RunRow | undefined> {
      const [run] = await db
        .select()
        .from(conversationRuns)
        .where(
          and(
            eq(conversationRuns.conversationId, conversationId),
            inArray(conversationRuns.state, ["running", "queued"]),
          ),
        )
        .orderBy(sql`CASE WHEN ${conversationRuns.state} = 'running' THEN 0 ELSE 1 END`, asc(conversationRuns.queuedAt))
        .limit(1);
      return run;
    },

    /** The person's most recently queued run in any conversation, with that conversation's title. */
    async latestOf(userId: string): Promise<{ run: RunRow; title: string } | undefined> {
      const [latest] = await db
        .select({ run: conversationRuns, title: conversations.title })
        .from(conversationRuns)
        .innerJoin(conversations, eq(conversations.id, conversationRuns.conversationId))
        .where(eq(conversations.userId, userId))
        .orderBy(desc(conversationRuns.queuedAt), desc(conversationRuns.id))
        .limit(1);
      return latest;
    },

    /**
     * Ends the run, only while it is still queued or running (a cancel and a completion racing each other end it
     * once); in a transaction, this takes the run's row lock. Undefined when it had ended already.
     */
    async end({
      runId,
      state,
      error,
      at,
    }: {
      runId: string;
      state: "succeeded" | "failed" | "canceled";
      error: RunError | null;
      at: Date;
    }): Promise<RunRow | undefined> {
      const [ended] = await db
        .update(conversationRuns)
        .set({ state, error, finishedAt: at, activeNodeId: null, leaseExpiresAt: null })
        .where(and(eq(conversationRuns.id, runId), inArray(conversationRuns.state, ["queued", "running"])))
        .returning();
      return ended;
    },
  };
}

const writeTemplates = builtOnce((db) => {
  const runId = sql.placeholder("runId");
  return {
    releaseLease: statementTemplate<{ runId: string; workerId: string }>(
      db
        .update(conversationRuns)
        .set({ leaseExpiresAt: null, workerId: null })
        .where(
          and(
            eq(conversationRuns.id, runId),
            eq(conversationRuns.state, "running"),
            eq(conversationRuns.workerId, sql`${sql.placeholder("workerId")}::text`),
          ),
        )
        .returning({ id: conversationRuns.id }),
      "some",
    ),
    makeActive: statementTemplate<{ runId: string; nodeId: string }>(
      db
        .update(conversationRuns)
        .set({ activeNodeId: sql`${sql.placeholder("nodeId")}::uuid` })
        .where(and(eq(conversationRuns.id, runId), eq(conversationRuns.state, "running")))
        .returning({ id: conversationRuns.id }),
      "some",
    ),
    succeed: statementTemplate<{ runId: string; at: string }>(
      db
        .update(conversationRuns)
        .set({
          state: "succeeded",
          error: null,
          activeNodeId: null,
          leaseExpiresAt: null,
          finishedAt: sql`${sql.placeholder("at")}::timestamptz`,
          heartbeatAt: sql`${sql.placeholder("at")}::timestamptz`,
        })
        .where(and(eq(conversationRuns.id, runId), inArray(conversationRuns.state, ["queued", "running"])))
        .returning({ id: conversationRuns.id }),
      "some",
    ),
  };
});

/** Writes for a batch (Database.write); each is unmet when the run is no longer as it says. */
export function runWrites(db: Db) {
  const templates = writeTemplates(db);
  return {
    /** The run waits, or stops here: `workerId` lets go of it while it is still running under its lease. */
    releaseLease: (values: { runId: string; workerId: string }): Write => templates.releaseLease(values),
    /** The node the run produces now, while the run is still running. */
    makeActive: (values: { runId: string; nodeId: string }): Write => templates.makeActive(values),
    /** The run succeeds at `at` (its heartbeat too), while it is still queued or running. */
    succeed: ({ runId, at }: { runId: string; at: Date }): Write => templates.succeed({ runId, at: at.toISOString() }),
  };
}
