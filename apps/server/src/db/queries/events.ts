import { and, asc, eq, gt, type Placeholder, type SQL, sql } from "drizzle-orm";
import type { Db } from "../index.js";
import { conversationEvents } from "../schema.js";
import { batchStatement, builtOnce, statementTemplate, type Write } from "../statements.js";

/** The conversation event log: appended with fresh seqs, read by cursor; a streamed node's chunks. */

export type EventRow = typeof conversationEvents.$inferSelect;
/** What an append answers for each row it inserted (a row whose conversation is gone is not inserted). */
export type AppendedEvent = { id: string; seq: string | number };

/**
 * Appends events with fresh seqs, in one statement: seqs come from each conversation's `last_seq` under its row
 * lock, so commits for one conversation happen in seq order and a reader's cursor never skips a late commit. Rows
 * travel as one JSON parameter (one parse, however many rows). Events update no indexed column of the
 * conversation (a HOT update). `rows` must not be empty; their `seq` is ignored.
 */
function appendQuery(rows: EventRow[], now: Date): SQL {
  const conversationId = rows[0]!.conversationId;
  return rows.every((row) => row.conversationId === conversationId)
    ? appendForOne(conversationId, rows, now)
    : appendForMany(rows, now);
}

/** An event row as one element of the JSON the inserts read with jsonb_to_recordset (short keys, less to parse). */
function recordsetRow(row: EventRow) {
  return { id: row.id, t: row.turnId, r: row.runId, n: row.nodeId, k: row.kind, x: row.text, p: row.payload };
}

/** The usual case, one conversation: no grouping or numbering in SQL (about half the time of the general form). */
function appendForOne(conversationId: string, rows: EventRow[], now: Date): SQL {
  const input = JSON.stringify(rows.map((row, i) => ({ i: i + 1, ...recordsetRow(row) })));
  return sql`
    WITH alloc AS (
      UPDATE conversations SET last_seq = last_seq + ${rows.length}::int
      WHERE id = ${conversationId}::uuid
      RETURNING last_seq - ${rows.length}::int AS base
    )
    INSERT INTO conversation_events (id, conversation_id, seq, turn_id, run_id, node_id, kind, text, payload, created_at)
    SELECT d.id, ${conversationId}::uuid, alloc.base + d.i, d.t, d.r, d.n, d.k, d.x, d.p, ${now.toISOString()}::timestamptz
    FROM alloc, jsonb_to_recordset(${input}::jsonb)
      AS d(i int, id uuid, t uuid, r uuid, n uuid, k text, x text, p jsonb)
    RETURNING id, seq`;
}

/** Several conversations at once (the stream writer's batched chunk flush): seqs numbered per conversation. */
function appendForMany(rows: EventRow[], now: Date): SQL {
  const input = JSON.stringify(rows.map((row, i) => ({ i, c: row.conversationId, ...recordsetRow(row) })));
  return sql`
    WITH d AS (
      SELECT * FROM jsonb_to_recordset(${input}::jsonb)
        AS d(i int, id uuid, c uuid, t uuid, r uuid, n uuid, k text, x text, p jsonb)
    ),
    alloc AS (
      UPDATE conversations c SET last_seq = c.last_seq + v.n
      FROM (SELECT d.c, count(*)::int AS n FROM d GROUP BY d.c) v
      WHERE c.id = v.c
      RETURNING c.id, c.last_seq - v.n AS base
    )
    INSERT INTO conversation_events (id, conversation_id, seq, turn_id, run_id, node_id, kind, text, payload, created_at)
    SELECT d.id, d.c, alloc.base + row_number() OVER (PARTITION BY d.c ORDER BY d.i), d.t, d.r, d.n, d.k, d.x, d.p,
      ${now.toISOString()}::timestamptz
    FROM d JOIN alloc ON alloc.id = d.c
    RETURNING id, seq`;
}

const chunksOf = (nodeId: string | Placeholder) =>
  and(eq(conversationEvents.nodeId, nodeId), eq(conversationEvents.kind, "stream_chunk"));

/** Writes for a batch (Database.write). */
export const eventWrites = builtOnce((db) => {
  const dropChunks = statementTemplate<{ nodeId: string }>(
    db.delete(conversationEvents).where(chunksOf(sql.placeholder("nodeId"))),
  );
  return {
    /** See appendQuery; its rows are the AppendedEvent of each row inserted. */
    append: (rows: EventRow[], now: Date): Write => batchStatement(appendQuery(rows, now)),
    /** A finished node's streamed chunks go: its stream_complete carries the whole text. */
    dropChunks: (nodeId: string): Write => dropChunks({ nodeId }),
  };
});

const eventsAfterQuery = builtOnce((db) =>
  db
    .select()
    .from(conversationEvents)
    .where(
      and(
        eq(conversationEvents.conversationId, sql.placeholder("conversationId")),
        gt(conversationEvents.seq, sql.placeholder("cursor")),
      ),
    )
    .orderBy(asc(conversationEvents.seq))
    .limit(sql.placeholder("limit"))
    .prepare("events_after"),
);

/** Statements that run when called, on the database or inside a transaction. */
export function eventQueries(db: Db) {
  return {
    /** See appendQuery. */
    async append(rows: EventRow[], now: Date): Promise<AppendedEvent[]> {
      const result = (await db.execute(appendQuery(rows, now))) as unknown as
        | { rows?: AppendedEvent[] }
        | AppendedEvent[];
      return Array.isArray(result) ? result : (result.rows ?? []);
    },

    /** The conversation's events after `cursor`, oldest first. */
    after(conversationId: string, cursor: number, limit: number): Promise<EventRow[]> {
      return eventsAfterQuery(db).execute({ conversationId, cursor, limit });
    },

    /** The text a node's persisted chunks hold, in order. */
    async chunkText(nodeId: string): Promise<string> {
      const chunks = await db
        .select({ text: conversationEvents.text })
        .from(conversationEvents)
        .where(chunksOf(nodeId))
        .orderBy(asc(conversationEvents.seq));
      return chunks.map((chunk) => chunk.text ?? "").join("");
    },

    async dropChunks(nodeId: string): Promise<void> {
      await db.delete(conversationEvents).where(chunksOf(nodeId));
    },
  };
}
