import { z } from "zod";
import { pendingApproval, runSummary, toolCallPart, transcriptMessage } from "./conversations.js";
import { directiveState, outputStream } from "./directives.js";
import { hookWarningPayload, runError, stepKind, stepState } from "./runs.js";

/**
 * The fields every conversation event carries. Persisted events get a per-conversation `seq` (the resume cursor)
 * before they are sent; ephemeral ones (live text deltas, heartbeats) go to live subscribers only, with `seq: null`.
 */
const envelopeFields = {
  conversation_id: z.string(),
  turn_id: z.string().nullable(),
  run_id: z.string().nullable(),
  node_id: z.string().nullable(),
  /** Unique id of a persisted event; null for ephemeral ones. */
  event_id: z.string().nullable(),
  /** Per-conversation monotonic cursor; null for ephemeral events. */
  seq: z.number().int().nullable(),
  created_at: z.string(),
};
type EnvelopeFields = typeof envelopeFields;

/**
 * One kind of event: its envelope with the kind's payload. `text: true` for kinds whose body is text (it travels
 * beside the payload, in the log's own column).
 */
export function defineEvent<const K extends string, P extends z.ZodObject>(
  kind: K,
  payload: P,
): z.ZodObject<EnvelopeFields & { kind: z.ZodLiteral<K>; payload: P }>;
export function defineEvent<const K extends string, P extends z.ZodObject>(
  kind: K,
  payload: P,
  options: { text: true },
): z.ZodObject<EnvelopeFields & { kind: z.ZodLiteral<K>; payload: P; text: z.ZodString }>;
export function defineEvent(kind: string, payload: z.ZodObject, options?: { text: true }) {
  return z.object({
    ...envelopeFields,
    kind: z.literal(kind),
    payload,
    ...(options?.text ? { text: z.string() } : {}),
  });
}

const runPayload = z.object({ run: runSummary });
/** Which step of the run: its kind, its place in the run, and which attempt at it. */
const stepPayload = z.object({
  stepId: z.string(),
  kind: stepKind,
  ordinal: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
});

/**
 * Every kind of event the server records or sends, with its exact payload. The one envelope every surface
 * consumes (web today, a chat bot tomorrow). A client ignores kinds it does not know: a newer server may send them.
 */
const eventDefinitions = [
  /** A run waits for its turn; a retry also names the nodes its new reply replaces. */
  defineEvent("run_queued", runPayload.extend({ supersededNodeIds: z.array(z.string()).optional() })),
  defineEvent("run_started", runPayload),
  /** Ephemeral: the run's process is alive, even while the model is silent. */
  defineEvent("run_heartbeat", z.object({ at: z.string() })),
  defineEvent("typing_start", z.object({})),
  defineEvent("typing_stop", z.object({})),
  defineEvent("run_succeeded", runPayload),
  defineEvent("run_failed", runPayload.extend({ error: runError })),
  defineEvent("run_canceled", runPayload),
  /** A run handed back while a step waits; it holds nothing and continues once the wait ends (runs/steps/await.ts). */
  defineEvent(
    "run_waiting",
    z.object({
      step: z.object({
        id: z.string(),
        kind: stepKind,
        waitKey: z.string().nullable(),
        input: z.record(z.string(), z.unknown()),
      }),
    }),
  ),
  /**
   * A user message (with the client's id when it sent one) or an agent message starting; `node_id` is its id.
   */
  defineEvent("message_created", z.object({ message: transcriptMessage, clientMessageId: z.string().optional() })),
  /**
   * `text` is a delta starting at character `offset` of node `node_id`'s text. Persisted chunks are coalesced and
   * carry a seq; live chunks are sent at once with `seq: null`. A client appends only the part beyond what it
   * holds, so duplicates and overlaps are harmless.
   */
  defineEvent("stream_chunk", z.object({ offset: z.number().int().nonnegative() }), { text: true }),
  /**
   * Live only. A reply streams while its node is still being written; when that write does not happen (the send
   * was queued after all, or it failed), the node never exists: the client drops what it holds of it, and its run
   * is queued again as far as the client knows (decisions/0042).
   */
  defineEvent("stream_withdrawn", z.object({})),
  /**
   * `text` is the node's full final text; it replaces whatever the client assembled. Once a node completes, its
   * persisted chunks are compacted away; this event alone rebuilds the text. A reply that completed carries its
   * message; a run that ended around an open node gives the node's end state (finished, errored, stopped).
   */
  defineEvent(
    "stream_complete",
    z.object({
      state: z.enum(["completed", "finished", "errored", "stopped"]),
      message: transcriptMessage.optional(),
      error: runError.nullable().optional(),
    }),
    { text: true },
  ),
  /** `node_id` is the task node; `messageId` the agent message whose card it is. */
  defineEvent("tool_call", z.object({ messageId: z.string(), part: toolCallPart })),
  defineEvent("tool_result", z.object({ messageId: z.string(), part: toolCallPart })),
  defineEvent("conversation_updated", z.object({ title: z.string() })),

  // Phase 1: durable steps, directives and approvals. `node_id` of a directive or approval event is the task node
  // of the tool call that waits on it (its card).
  defineEvent("step_started", stepPayload.extend({ state: stepState.extract(["running", "waiting"]) })),
  defineEvent(
    "step_finished",
    stepPayload.extend({
      state: stepState.extract(["succeeded", "failed", "canceled", "interrupted"]),
      error: runError.nullable(),
    }),
  ),
  /** `text` is one chunk of a directive's output; `seq` orders the chunks of one stream of one directive. */
  defineEvent(
    "directive_output",
    z.object({ directiveId: z.string(), stream: outputStream, seq: z.number().int().nonnegative() }),
    { text: true },
  ),
  /** `exitCode` once it ended; `outputTruncated` once the output cap cut it. */
  defineEvent(
    "directive_state",
    z.object({
      directiveId: z.string(),
      state: directiveState,
      exitCode: z.number().int().nullable(),
      outputTruncated: z.boolean(),
    }),
  ),
  /**
   * A tool call waits for a person: `approval` is what the card shows; answer at `POST /api/approvals/:id`.
   * `directiveId` is set when policy asked about a command (null when the agent program asks about a tool).
   */
  defineEvent("approval_requested", z.object({ approval: pendingApproval, directiveId: z.string().nullable() })),
  /** `withdrawn`: the run was canceled while the request waited. */
  defineEvent(
    "approval_resolved",
    z.object({
      approvalId: z.string(),
      directiveId: z.string().nullable(),
      decision: z.enum(["approved", "rejected", "withdrawn"]),
    }),
  ),
  /**
   * A hook of the agent program failed, timed out, answered no JSON or could not run: the turn went on with the
   * static config. `node_id` is the tool call's task node for after_tool_call. Details: GET /api/runs/:id.
   */
  defineEvent("hook_warning", hookWarningPayload),
] as const;

export const eventEnvelope = z.discriminatedUnion("kind", eventDefinitions);
export type EventEnvelope = z.infer<typeof eventEnvelope>;
export type EventKind = EventEnvelope["kind"];
export type EventOf<K extends EventKind> = Extract<EventEnvelope, { kind: K }>;
export type PayloadOf<K extends EventKind> = EventOf<K>["payload"];
/** The kinds whose body is the envelope's `text`. */
export type TextEventKind = Extract<EventEnvelope, { text: string }>["kind"];
