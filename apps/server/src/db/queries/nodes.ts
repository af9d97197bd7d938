import type { RunError } from "@cybros/protocol";
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { unionAll } from "drizzle-orm/pg-core";
import type { Db } from "../index.js";
import { conversationRuns, nodes } from "../schema.js";
import { builtOnce, columnPlaceholders, statementTemplate, type Write } from "../statements.js";

/** Nodes, the conversation graph: messages, tasks, summaries; the transcript and a prompt's window read them. */

export type NodeRow = typeof nodes.$inferSelect;
type NodeState = NodeRow["state"];
type RunRow = typeof conversationRuns.$inferSelect;

/** A node left open by a run that ends: its text is kept. */
export type OpenNode = Pick<NodeRow, "id" | "kind" | "content">;
const openColumns = { id: nodes.id, kind: nodes.kind, content: nodes.content };
const OPEN = ["pending", "running"] as const;

/** What a prompt needs of a node; the rest of the row is never read, so it is never fetched. */
const contextColumns = {
  id: nodes.id,
  kind: nodes.kind,
  state: nodes.state,
  content: nodes.content,
  data: nodes.data,
  parentId: nodes.parentId,
  turnSeq: nodes.turnSeq,
  position: nodes.position,
};
export type ContextNode = Pick<NodeRow, keyof typeof contextColumns>;

const contextQuery = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  const from = sql.placeholder("from");
  const turnSeq = sql.placeholder("turnSeq");
  const summary = db
    .select(contextColumns)
    .from(nodes)
    .where(
      and(
        eq(nodes.conversationId, conversationId),
        // A literal, not a parameter, so the planner can use the partial index nodes_summary_idx.
        sql`${nodes.kind} = 'summary'`,
        lte(nodes.turnSeq, from),
        isNull(nodes.supersededAt),
      ),
    )
    .orderBy(desc(nodes.turnSeq), desc(nodes.position))
    .limit(1);
  const window = db
    .select(contextColumns)
    .from(nodes)
    .where(
      and(
        eq(nodes.conversationId, conversationId),
        gt(nodes.turnSeq, from),
        lte(nodes.turnSeq, turnSeq),
        isNull(nodes.supersededAt),
        inArray(nodes.kind, [
          "user_message",
          "agent_message",
          "character_message",
          "task",
          "system_message",
          "developer_message",
        ]),
      ),
    );
  // The summary is older than every turn in the window, so turn order puts it first.
  return unionAll(summary, window).orderBy(asc(nodes.turnSeq), asc(nodes.position)).prepare("context_nodes");
});

const VISIBLE_KINDS = ["user_message", "agent_message", "character_message"] as const;

const firstUserTextQuery = builtOnce((db) =>
  db
    .select({ content: nodes.content })
    .from(nodes)
    .where(and(eq(nodes.conversationId, sql.placeholder("conversationId")), eq(nodes.kind, "user_message")))
    .orderBy(asc(nodes.turnSeq))
    .limit(1)
    .prepare("first_user_text"),
);

/** Statements that run when called, on the database or inside a transaction. */
export function nodeQueries(db: Db) {
  return {
    /**
     * The nodes a prompt sees for turn `turnSeq`: the turns after `fromTurnSeq` up to it, plus the newest summary
     * at or before `fromTurnSeq`. One statement of two index range scans (the summary through a partial index), so
     * the cost grows with the window, never with the conversation's history.
     */
    contextWindow({
      conversationId,
      turnSeq,
      fromTurnSeq,
    }: {
      conversationId: string;
      turnSeq: number;
      fromTurnSeq: number;
    }): Promise<ContextNode[]> {
      return contextQuery(db).execute({ conversationId, turnSeq, from: fromTurnSeq });
    },

    /**
     * A page of the transcript's visible messages, newest first, before the (turn seq, position) `before`:
     * `limit` rows and one more when older ones remain.
     */
    transcriptPage({
      conversationId,
      before,
      limit,
    }: {
      conversationId: string;
      before?: { turnSeq: number; position: number };
      limit: number;
    }): Promise<NodeRow[]> {
      const filters = [
        eq(nodes.conversationId, conversationId),
        inArray(nodes.kind, [...VISIBLE_KINDS]),
        isNull(nodes.supersededAt),
      ];
      if (before) {
        filters.push(
          or(
            lt(nodes.turnSeq, before.turnSeq),
            and(eq(nodes.turnSeq, before.turnSeq), lt(nodes.position, before.position)),
          )!,
        );
      }
      return db
        .select()
        .from(nodes)
        .where(and(...filters))
        .orderBy(desc(nodes.turnSeq), desc(nodes.position))
        .limit(limit + 1);
    },

    /** The task nodes (tool calls) of these messages, in order. */
    tasksOf(messageIds: string[]): Promise<NodeRow[]> {
      return db
        .select()
        .from(nodes)
        .where(and(inArray(nodes.parentId, messageIds), eq(nodes.kind, "task")))
        .orderBy(asc(nodes.turnSeq), asc(nodes.position));
    },

    /** Every node the run wrote, in order. */
    ofRun(runId: string): Promise<NodeRow[]> {
      return db.select().from(nodes).where(eq(nodes.runId, runId)).orderBy(asc(nodes.position));
    },

    /** The text of the conversation's first user message. */
    async firstUserText(conversationId: string): Promise<string | undefined> {
      const [message] = await firstUserTextQuery(db).execute({ conversationId });
      return message?.content;
    },

    /** The user message a send with `clientMessageId` made, and its newest run. */
    async sentWith(
      conversationId: string,
      clientMessageId: string,
    ): Promise<{ node: NodeRow; run: RunRow } | undefined> {
      const [first] = await db
        .select({ node: nodes, run: conversationRuns })
        .from(nodes)
        .innerJoin(conversationRuns, eq(conversationRuns.turnId, nodes.turnId))
        .where(
          and(
            eq(nodes.conversationId, conversationId),
            eq(nodes.kind, "user_message"),
            sql`${nodes.data}->>'clientMessageId' = ${clientMessageId}`,
          ),
        )
        .orderBy(desc(conversationRuns.queuedAt))
        .limit(1);
      return first;
    },

    /** The run's nodes not finished yet. */
    openOf(runId: string): Promise<OpenNode[]> {
      return db
        .select(openColumns)
        .from(nodes)
        .where(and(eq(nodes.runId, runId), inArray(nodes.state, [...OPEN])));
    },

    /** The node, if it is still running. */
    runningById(nodeId: string): Promise<OpenNode[]> {
      return db
        .select(openColumns)
        .from(nodes)
        .where(and(eq(nodes.id, nodeId), eq(nodes.state, "running")));
    },

    /** A node still running keeps `content`, the text streamed so far (a node someone finalized is left alone). */
    async keepStreamedText(nodeId: string, content: string): Promise<void> {
      await db
        .update(nodes)
        .set({ content })
        .where(and(eq(nodes.id, nodeId), eq(nodes.state, "running")));
    },

    /** The node ends in `state` with `content`, and `error` when there is one. */
    async close(
      nodeId: string,
      { state, content, error, at }: { state: NodeState; content: string; error: RunError | null; at: Date },
    ): Promise<void> {
      await db
        .update(nodes)
        .set({ state, content, finishedAt: at, ...(error ? { error } : {}) })
        .where(eq(nodes.id, nodeId));
    },
  };
}

const writeTemplates = builtOnce((db) => ({
  insert: statementTemplate<NodeRow>(db.insert(nodes).values(columnPlaceholders(nodes))),
  finish: statementTemplate<{ nodeId: string; content: string; data: string; at: string }>(
    db
      .update(nodes)
      .set({
        state: "finished",
        content: sql`${sql.placeholder("content")}::text`,
        data: sql`${sql.placeholder("data")}::jsonb`,
        finishedAt: sql`${sql.placeholder("at")}::timestamptz`,
      })
      .where(and(eq(nodes.id, sql.placeholder("nodeId")), eq(nodes.state, "running")))
      .returning({ id: nodes.id }),
    "some",
  ),
  noneOpen: statementTemplate<{ runId: string }>(
    db
      .select({ id: nodes.id })
      .from(nodes)
      .where(and(eq(nodes.runId, sql.placeholder("runId")), inArray(nodes.state, [...OPEN]))),
    "none",
  ),
}));

/** Writes for a batch (Database.write). */
export function nodeWrites(db: Db) {
  const templates = writeTemplates(db);
  return {
    /** A node made in full (newNode). */
    insert: (node: NodeRow): Write => templates.insert(node),
    /** A running node finishes with its text and data; unmet when it is no longer running (a cancel closed it). */
    finish: ({
      nodeId,
      content,
      data,
      at,
    }: {
      nodeId: string;
      content: string;
      data: Record<string, unknown>;
      at: Date;
    }): Write => templates.finish({ nodeId, content, data: JSON.stringify(data), at: at.toISOString() }),
    /** Unmet while any node of the run is not finished. */
    noneOpen: (runId: string): Write => templates.noneOpen({ runId }),
  };
}
