import type { EventEnvelope, EventKind } from "@cybros/protocol";
import type { conversationEvents } from "../db/schema.js";

export type EventRow = typeof conversationEvents.$inferSelect;

/** What a writer supplies; the log adds id, seq and time. */
export interface EventDraft {
  conversationId: string;
  kind: EventKind;
  turnId?: string | null;
  runId?: string | null;
  nodeId?: string | null;
  text?: string;
  payload?: Record<string, unknown>;
}

export function envelopeOf(row: EventRow): EventEnvelope {
  return {
    conversation_id: row.conversationId,
    turn_id: row.turnId,
    run_id: row.runId,
    node_id: row.nodeId,
    event_id: row.id,
    seq: row.seq,
    kind: row.kind as EventKind,
    ...(row.text !== null ? { text: row.text } : {}),
    payload: row.payload,
    created_at: row.createdAt.toISOString(),
  };
}

export function ephemeralEnvelope(draft: EventDraft): EventEnvelope {
  return {
    conversation_id: draft.conversationId,
    turn_id: draft.turnId ?? null,
    run_id: draft.runId ?? null,
    node_id: draft.nodeId ?? null,
    event_id: null,
    seq: null,
    kind: draft.kind,
    ...(draft.text !== undefined ? { text: draft.text } : {}),
    payload: draft.payload ?? {},
    created_at: new Date().toISOString(),
  };
}
