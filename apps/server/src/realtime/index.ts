import type { EventEnvelope } from "@cybros/protocol";
import type { Database, Db, Write } from "../db/index.js";
import { eventQueries, eventWrites } from "../db/queries/events.js";
import { uuidv7 } from "../ids.js";
import type { Logger } from "../log.js";
import { type EventDraft, type EventRow, envelopeOf, ephemeralEnvelope } from "./envelope.js";

export type { EventDraft } from "./envelope.js";
export type Listener = (event: EventEnvelope) => void;
/** The database, or a transaction of it. */
export type Writer = Db;
type InsertedRow = { id: string; seq: string | number };

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
   * Persists events with fresh seqs (eventQueries.append: in seq order per conversation, one statement), inside the
   * writer's transaction when it is one.
   */
  async record(writer: Writer, drafts: EventDraft[]): Promise<EventEnvelope[]> {
    if (drafts.length === 0) return [];
    const { rows, now } = this.rowsOf(drafts);
    return this.envelopesOf(rows, await eventQueries(writer).append(rows, now));
  }

  /**
   * The write `record` makes, for a caller that commits it with others (Database.write), and how to make the
   * envelopes from the rows it answers. `drafts` must not be empty. (`query` is `write` under its former name.)
   */
  recording(drafts: EventDraft[]): {
    write: Write;
    query: Write;
    envelopes: (inserted: readonly Record<string, unknown>[]) => EventEnvelope[];
  } {
    const { rows, now } = this.rowsOf(drafts);
    const write = eventWrites(this.database.db).append(rows, now);
    return { write, query: write, envelopes: (inserted) => this.envelopesOf(rows, inserted) };
  }

  private rowsOf(drafts: EventDraft[]): { rows: EventRow[]; now: Date } {
    const now = new Date();
    const rows = drafts.map((draft) => ({
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
    return { rows, now };
  }

  /** Drafts for a conversation that no longer exists are dropped, as their rows were never inserted. */
  private envelopesOf(rows: EventRow[], inserted: readonly Record<string, unknown>[]): EventEnvelope[] {
    const seqs = new Map<string, number>();
    for (const row of inserted as InsertedRow[]) seqs.set(row.id, Number(row.seq));
    return rows.filter((row) => seqs.has(row.id)).map((row) => envelopeOf({ ...row, seq: seqs.get(row.id)! }));
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
      // One notification for the whole publish (a chunk flush covers every streaming conversation), split only to
      // stay under PostgreSQL's payload limit.
      for (const payload of remotePayloads(this.processId, latest)) {
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
    const rows = await eventQueries(db).after(conversationId, cursor, limit);
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
    let message: RemoteEvents;
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (message.o === this.processId || !Array.isArray(message.l)) return;
    await Promise.all(message.l.map(([conversationId, seq]) => this.catchUp(conversationId, seq)));
  }

  /** Another process committed the conversation's events up to `seq`: deliver those subscribers here lack. */
  private async catchUp(conversationId: string, seq: number): Promise<void> {
    if (!this.listeners.has(conversationId)) return;
    // Subscribers note what they replayed; without a note, read from the start (they drop what they hold).
    const since = this.published.get(conversationId) ?? 0;
    if (seq <= since) return;
    const events = await this.eventsAfter(this.database.db, conversationId, since);
    for (const event of events) {
      if ((event.seq ?? 0) > (this.published.get(conversationId) ?? 0)) this.deliver(event);
    }
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

/** A notification that a process committed events: its id, and each conversation with its latest seq. */
interface RemoteEvents {
  o: string;
  l: [conversationId: string, seq: number][];
}

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_NOTIFY_BYTES = 7_000;

function remotePayloads(processId: string, latest: Map<string, number>): string[] {
  const payloads: string[] = [];
  let list: RemoteEvents["l"] = [];
  // Ids and seqs are ASCII: characters are bytes. An entry is ~50 of them.
  let size = 0;
  for (const [conversationId, seq] of latest) {
    if (size > MAX_NOTIFY_BYTES - 100) {
      payloads.push(JSON.stringify({ o: processId, l: list } satisfies RemoteEvents));
      list = [];
      size = 0;
    }
    list.push([conversationId, seq]);
    size += conversationId.length + String(seq).length + 6;
  }
  if (list.length > 0) payloads.push(JSON.stringify({ o: processId, l: list } satisfies RemoteEvents));
  return payloads;
}
