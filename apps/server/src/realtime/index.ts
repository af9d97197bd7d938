import type { EventEnvelope } from "@cybros/protocol";
import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import type { Database, Db } from "../db/index.js";
import { conversationEvents } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import type { Logger } from "../log.js";
import { type EventDraft, type EventRow, envelopeOf, ephemeralEnvelope } from "./envelope.js";

export type { EventDraft } from "./envelope.js";
export type Listener = (event: EventEnvelope) => void;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Writer = Db | Tx;
type InsertedRow = { id: string; seq: string | number };

/** An event row as one element of the JSON the inserts read with jsonb_to_recordset (short keys, less to parse). */
function recordsetRow(row: EventRow) {
  return { id: row.id, t: row.turnId, r: row.runId, n: row.nodeId, k: row.kind, x: row.text, p: row.payload };
}

const EVENTS_CHANNEL = "cybros_events";
const EPHEMERAL_CHANNEL = "cybros_ephemeral";

/**
 * The conversation event log and its fan-out. Writers record events inside their own transaction (so a write
 * and its events commit together), then publish: local subscribers get them at once, other processes through
 * LISTEN/NOTIFY (they read the rows by cursor). Ephemeral events skip the log.
 */
export class Realtime {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Highest seq published here per conversation, so cross-process catch-up neither skips nor repeats. */
  private readonly published = new Map<string, number>();
  private unlisten: (() => Promise<void>)[] = [];
  readonly counts = new Map<string, number>();
  /** Identifies this instance in NOTIFY payloads so it ignores its own. */
  private readonly processId = uuidv7();

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  /** Cross-process fan-out; PGlite has one process, so it needs none. */
  async start(): Promise<void> {
    if (this.database.kind !== "postgres") return;
    this.unlisten.push(
      await this.database.listen(EVENTS_CHANNEL, (payload) => void this.onRemoteEvents(payload)),
      await this.database.listen(EPHEMERAL_CHANNEL, (payload) => this.onRemoteEphemeral(payload)),
    );
  }

  async stop(): Promise<void> {
    for (const unlisten of this.unlisten) await unlisten();
    this.unlisten = [];
  }

  /**
   * Persists events with fresh seqs, in one statement: seqs come from each conversation's `last_seq` under its row
   * lock, so commits for one conversation happen in seq order and a reader's cursor never skips a late commit.
   * Drafts travel as one JSON parameter (one parse, however many rows). Events update no indexed column of the
   * conversation (a HOT update); its recency moves only when a message is sent.
   */
  async record(writer: Writer, drafts: EventDraft[]): Promise<EventEnvelope[]> {
    if (drafts.length === 0) return [];
    const { query, envelopes } = this.recording(drafts);
    const result = (await writer.execute(query)) as unknown as { rows?: InsertedRow[] } | InsertedRow[];
    return envelopes(Array.isArray(result) ? result : (result.rows ?? []));
  }

  /**
   * The insert `record` runs, for a caller that sends it itself (in a Database.batch), and how to make the
   * envelopes from the rows it returns. `drafts` must not be empty.
   */
  recording(drafts: EventDraft[]): {
    query: SQL;
    envelopes: (inserted: readonly Record<string, unknown>[]) => EventEnvelope[];
  } {
    const now = new Date();
    const rows: EventRow[] = drafts.map((draft) => ({
      id: uuidv7(),
      conversationId: draft.conversationId,
      seq: 0,
      turnId: draft.turnId ?? null,
      runId: draft.runId ?? null,
      nodeId: draft.nodeId ?? null,
      kind: draft.kind,
      text: draft.text ?? null,
      payload: draft.payload ?? {},
      createdAt: now,
    }));
    const conversationId = rows[0]!.conversationId;
    const query = rows.every((row) => row.conversationId === conversationId)
      ? this.insertForOne(conversationId, rows, now)
      : this.insertForMany(rows, now);
    return {
      query,
      envelopes: (inserted) => {
        const seqs = new Map<string, number>();
        for (const row of inserted as InsertedRow[]) seqs.set(row.id, Number(row.seq));
        // Drafts for a conversation that no longer exists are dropped, as their rows were never inserted.
        return rows.filter((row) => seqs.has(row.id)).map((row) => envelopeOf({ ...row, seq: seqs.get(row.id)! }));
      },
    };
  }

  /** The usual case, one conversation: no grouping or numbering in SQL (about half the time of the general form). */
  private insertForOne(conversationId: string, rows: EventRow[], now: Date): SQL {
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
  private insertForMany(rows: EventRow[], now: Date): SQL {
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

  /** Records and publishes in one step, for writes that need no other statement in the transaction. */
  async emit(writer: Writer, drafts: EventDraft[]): Promise<EventEnvelope[]> {
    const events = await this.record(writer, drafts);
    this.publish(events);
    return events;
  }

  /** Delivers committed events here and tells other processes. Call only after the commit. */
  publish(events: EventEnvelope[]): void {
    if (events.length === 0) return;
    const latest = new Map<string, number>();
    for (const event of events) {
      this.deliver(event);
      latest.set(event.conversation_id, Math.max(latest.get(event.conversation_id) ?? 0, event.seq ?? 0));
    }
    if (this.database.kind === "postgres") {
      for (const [conversationId, seq] of latest) {
        const payload = JSON.stringify({ o: this.processId, c: conversationId, s: seq });
        this.database.notify(EVENTS_CHANNEL, payload).catch((error) => this.log.warn({ err: error }, "notify failed"));
      }
    }
  }

  /** Live-only events (text deltas, heartbeats). `crossProcess` also sends small ones to other processes. */
  publishEphemeral(draft: EventDraft, crossProcess = false): void {
    const event = ephemeralEnvelope(draft);
    this.deliver(event);
    if (crossProcess && this.database.kind === "postgres") {
      this.database
        .notify(EPHEMERAL_CHANNEL, JSON.stringify({ o: this.processId, e: event }))
        .catch((error) => this.log.warn({ err: error }, "notify failed"));
    }
  }

  subscribe(conversationId: string, listener: Listener): () => void {
    let set = this.listeners.get(conversationId);
    if (!set) {
      set = new Set();
      this.listeners.set(conversationId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.listeners.delete(conversationId);
        this.published.delete(conversationId);
      }
    };
  }

  /**
   * The first subscriber of a conversation replayed the log up to `seq`: cross-process catch-up starts there.
   * A later subscriber's replay does not move it: events it read from the log may not have reached the others.
   */
  noteReplayed(conversationId: string, seq: number): void {
    if (!this.published.has(conversationId)) this.published.set(conversationId, seq);
  }

  subscriberCount(conversationId?: string): number {
    if (conversationId) return this.listeners.get(conversationId)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  async eventsAfter(db: Db, conversationId: string, cursor: number, limit = 1000): Promise<EventEnvelope[]> {
    const rows = await db
      .select()
      .from(conversationEvents)
      .where(and(eq(conversationEvents.conversationId, conversationId), gt(conversationEvents.seq, cursor)))
      .orderBy(asc(conversationEvents.seq))
      .limit(limit);
    return rows.map(envelopeOf);
  }

  private deliver(event: EventEnvelope): void {
    this.counts.set(event.kind, (this.counts.get(event.kind) ?? 0) + 1);
    if (event.seq !== null) {
      const last = this.published.get(event.conversation_id) ?? 0;
      if (event.seq > last) this.published.set(event.conversation_id, event.seq);
    }
    const set = this.listeners.get(event.conversation_id);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error }, "event listener failed");
      }
    }
  }

  private async onRemoteEvents(payload: string): Promise<void> {
    let message: { o: string; c: string; s: number };
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (message.o === this.processId || !this.listeners.has(message.c)) return;
    // Subscribers note what they replayed; without a note, read from the start (they drop what they hold).
    const since = this.published.get(message.c) ?? 0;
    if (message.s <= since) return;
    const events = await this.eventsAfter(this.database.db, message.c, since);
    for (const event of events) if ((event.seq ?? 0) > (this.published.get(message.c) ?? 0)) this.deliver(event);
  }

  private onRemoteEphemeral(payload: string): void {
    try {
      const message = JSON.parse(payload) as { o: string; e: EventEnvelope };
      if (message.o !== this.processId) this.deliver(message.e);
    } catch {
      // malformed notification: ignore
    }
  }
}
