import type { EventEnvelope, EventKind, MessagesPage, RunSummary, TranscriptMessage } from "@cybros/protocol";

/** Builders for envelopes, messages and pages in tests (unit tests here, the e2e matrix through the test hook). */

export const CONVERSATION = "0190a000-0000-7000-8000-000000000000";

export function envelope(kind: EventKind, fields: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    conversation_id: CONVERSATION,
    turn_id: null,
    run_id: null,
    node_id: null,
    event_id: fields.seq == null ? null : `e${fields.seq}`,
    seq: null,
    kind,
    payload: {},
    created_at: "2026-01-01T00:00:00.000Z",
    ...fields,
  };
}

export function transcriptMessage(fields: Partial<TranscriptMessage> & { id: string }): TranscriptMessage {
  return {
    conversationId: CONVERSATION,
    turnId: "t1",
    runId: null,
    role: "assistant",
    state: "completed",
    text: "",
    parts: [],
    error: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    completedAt: null,
    ...fields,
  };
}

export function page(
  messages: TranscriptMessage[],
  eventCursor: number,
  olderCursor: string | null = null,
): MessagesPage {
  return { messages, eventCursor, olderCursor };
}

export function runSummary(fields: Partial<RunSummary> & { id: string }): RunSummary {
  return {
    conversationId: CONVERSATION,
    turnId: "t1",
    activeNodeId: null,
    state: "queued",
    error: null,
    retryOfId: null,
    queuedAt: "2026-01-01T00:00:00.000Z",
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    ...fields,
  };
}

/**
 * The events one turn produces, as the server would send them: the user message, the run, the assistant node
 * streaming `reply` in chunks of `chunk` characters, completion. Seqs start at `seq`.
 */
export function turnEvents(options: {
  turn: string;
  run: string;
  user: string;
  assistant: string;
  prompt: string;
  reply: string;
  seq: number;
  chunk?: number;
}): EventEnvelope[] {
  const { turn, run, user, assistant, prompt, reply } = options;
  const size = options.chunk ?? 7;
  let seq = options.seq;
  const at = { turn_id: turn, run_id: run };
  const events: EventEnvelope[] = [
    envelope("message_created", {
      ...at,
      node_id: user,
      seq: seq++,
      payload: { message: transcriptMessage({ id: user, turnId: turn, role: "user", text: prompt }) },
    }),
    envelope("run_queued", { ...at, seq: seq++ }),
    envelope("run_started", { ...at, node_id: assistant, seq: seq++ }),
    envelope("message_created", {
      ...at,
      node_id: assistant,
      seq: seq++,
      payload: { message: transcriptMessage({ id: assistant, turnId: turn, runId: run, state: "pending" }) },
    }),
  ];
  for (let offset = 0; offset < reply.length; offset += size) {
    events.push(
      envelope("stream_chunk", {
        ...at,
        node_id: assistant,
        seq: seq++,
        text: reply.slice(offset, offset + size),
        payload: { offset },
      }),
    );
  }
  events.push(envelope("stream_complete", { ...at, node_id: assistant, seq: seq++, text: reply }));
  events.push(envelope("run_succeeded", { ...at, node_id: assistant, seq: seq++ }));
  return events;
}
