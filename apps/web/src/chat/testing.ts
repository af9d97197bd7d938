import type {
  EventEnvelope,
  EventKind,
  EventOf,
  MessagesPage,
  PayloadOf,
  RunSummary,
  TextEventKind,
  ToolCallPart,
  TranscriptMessage,
} from "@cybros/protocol";
import { runStateFor } from "./reconciler";

/** Builders for envelopes, messages and pages in tests (unit tests here, the e2e matrix through the test hook). */

export const CONVERSATION = "0190a000-0000-7000-8000-000000000000";

/** An envelope of one kind: its payload (and text, for text kinds) as the server writes them. */
export function envelope<K extends EventKind>(
  kind: K,
  fields: Partial<Omit<EventOf<K>, "kind">> &
    Pick<EventOf<K>, "payload"> &
    (K extends TextEventKind ? { text: string } : unknown),
): EventOf<K> {
  return {
    conversation_id: CONVERSATION,
    turn_id: null,
    run_id: null,
    node_id: null,
    event_id: fields.seq == null ? null : `e${fields.seq}`,
    seq: null,
    kind,
    created_at: "2026-01-01T00:00:00.000Z",
    ...fields,
  } as EventOf<K>;
}

type RunKind = keyof typeof runStateFor;

/**
 * A run event as the server sends it: the run's summary, in the kind's state, made from the envelope's run and
 * turn; `payload` adds the rest (a failure's error, a retry's superseded nodes), `run` overrides summary fields.
 */
export function runEvent<K extends RunKind>(
  kind: K,
  fields: Partial<Omit<EventOf<K>, "kind" | "payload">> & { run_id: string },
  payload?: Omit<PayloadOf<K>, "run">,
  run: Partial<RunSummary> = {},
): EventOf<K> {
  const error = payload && "error" in payload ? (payload.error as RunSummary["error"]) : null;
  const summary = runSummary({
    id: fields.run_id,
    turnId: fields.turn_id ?? "t1",
    state: runStateFor[kind],
    error,
    ...run,
  });
  return envelope(kind, { ...fields, payload: { ...payload, run: summary } } as never) as EventOf<K>;
}

export function toolPart(fields: Partial<ToolCallPart> & { id: string }): ToolCallPart {
  return {
    type: "tool_call",
    callId: `call-${fields.id}`,
    name: "memory_search",
    args: {},
    state: "running",
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
    runEvent("run_queued", { ...at, seq: seq++ }),
    runEvent("run_started", { ...at, seq: seq++ }),
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
  const completed = transcriptMessage({
    id: assistant,
    turnId: turn,
    runId: run,
    text: reply,
    parts: [{ type: "text", text: reply }],
  });
  events.push(
    envelope("stream_complete", {
      ...at,
      node_id: assistant,
      seq: seq++,
      text: reply,
      payload: { state: "completed", message: completed },
    }),
  );
  events.push(runEvent("run_succeeded", { ...at, seq: seq++ }));
  return events;
}
