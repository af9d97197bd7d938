import type { EventEnvelope, EventKind, EventOf, PayloadOf, TextEventKind } from "@cybros/protocol";
import type { conversationEvents } from "../db/schema.js";

export type EventRow = typeof conversationEvents.$inferSelect;

/** What a writer supplies for one kind; the log adds id, seq and time. The payload is the kind's own. */
export type DraftOf<K extends EventKind> = {
  conversationId: string;
  kind: K;
  turnId?: string | null;
  runId?: string | null;
  nodeId?: string | null;
  payload: PayloadOf<K>;
} & (K extends TextEventKind ? { text: string } : { text?: never });

/** A draft of any kind: `kind` decides which payload (and whether a text) it must have. */
export type EventDraft = { [K in EventKind]: DraftOf<K> }[EventKind];

/** A row as its envelope. Rows are written only from typed drafts, so their kind and payload match. */
export function envelopeOf(row: EventRow): EventEnvelope {
  return {
    conversation_id: row.conversationId,
    turn_id: row.turnId,
    run_id: row.runId,
    node_id: row.nodeId,
    event_id: row.id,
    seq: row.seq,
    kind: row.kind,
    ...(row.text !== null ? { text: row.text } : {}),
    payload: row.payload,
    created_at: row.createdAt.toISOString(),
  } as EventEnvelope;
}

export function ephemeralEnvelope<K extends EventKind>(draft: DraftOf<K>): EventOf<K> {
  return {
    conversation_id: draft.conversationId,
    turn_id: draft.turnId ?? null,
    run_id: draft.runId ?? null,
    node_id: draft.nodeId ?? null,
    event_id: null,
    seq: null,
    kind: draft.kind,
    ...(draft.text !== undefined ? { text: draft.text } : {}),
    payload: draft.payload,
    created_at: new Date().toISOString(),
  } as EventOf<K>;
}
