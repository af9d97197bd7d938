import { z } from "zod";

/**
 * Every kind of conversation event. Persisted kinds get a per-conversation `seq` (the resume cursor) before they
 * are sent; ephemeral kinds (live text deltas, heartbeats) are pushed to live subscribers only, with `seq: null`.
 */
export const eventKinds = [
  "run_queued",
  "run_started",
  "run_heartbeat",
  "typing_start",
  "stream_chunk",
  "tool_call",
  "tool_result",
  "message_created",
  "stream_complete",
  "typing_stop",
  "run_succeeded",
  "run_failed",
  "run_canceled",
  "run_stuck",
  /** A run handed back while a step waits (payload.step: id, kind, waitKey, input); it continues once the wait ends. */
  "run_waiting",
  "conversation_updated",
  "persona_switched",
  "subagent_spawned",
  "subagent_finished",
] as const;
export const eventKind = z.enum(eventKinds);
export type EventKind = z.infer<typeof eventKind>;

export const ephemeralKinds: ReadonlySet<EventKind> = new Set(["run_heartbeat"]);

/**
 * The one envelope every surface consumes (web today, a chat bot tomorrow).
 * - stream_chunk: `text` is a delta starting at character `payload.offset` of node `node_id`'s text. Persisted
 *   chunks are coalesced (≈50 ms / 1 KB) and carry a seq; live chunks are sent at once with `seq: null`. A client
 *   appends only the part beyond what it holds, so duplicates and overlaps are harmless.
 * - stream_complete: `text` is the node's full final text; it replaces whatever the client assembled.
 *   Once a node completes, its persisted chunks are compacted away; this event alone rebuilds the text.
 */
export const eventEnvelope = z.object({
  conversation_id: z.string(),
  turn_id: z.string().nullable(),
  run_id: z.string().nullable(),
  node_id: z.string().nullable(),
  /** Unique id of a persisted event; null for ephemeral ones. */
  event_id: z.string().nullable(),
  /** Per-conversation monotonic cursor; null for ephemeral events. */
  seq: z.number().int().nullable(),
  kind: eventKind,
  text: z.string().optional(),
  payload: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type EventEnvelope = z.infer<typeof eventEnvelope>;

export const runState = z.enum(["queued", "running", "succeeded", "failed", "canceled"]);
export type RunState = z.infer<typeof runState>;

/** Stable error codes a run can fail with; the UI words each one for people. */
export const runErrorCode = z.enum([
  "timeout",
  "connection_error",
  "http_error",
  "rate_limited",
  "auth_failed",
  "context_too_long",
  "empty_response",
  "invalid_response",
  "no_provider_for_model",
  "stale_run",
  "interrupted",
  "tool_loop_limit",
  "agent_program_error",
  "internal_error",
]);
export type RunErrorCode = z.infer<typeof runErrorCode>;

export const runError = z.object({
  code: runErrorCode,
  message: z.string(),
  status: z.number().int().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type RunError = z.infer<typeof runError>;
