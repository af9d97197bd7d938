import { z } from "zod";
import { hookWarning, runError, runState } from "./runs.js";
import { storableText } from "./text.js";

export const conversationSummary = z.object({
  id: z.string(),
  title: z.string(),
  agentProgramId: z.string(),
  agentName: z.string(),
  archivedAt: z.string().nullable(),
  /** When the last message was sent (creation until then); lists sort by it. */
  lastMessageAt: z.string(),
  createdAt: z.string(),
});
export type ConversationSummary = z.infer<typeof conversationSummary>;

export const runSummary = z.object({
  id: z.string(),
  conversationId: z.string(),
  turnId: z.string(),
  /** The node currently being produced; explicit, never inferred from the latest leaf. */
  activeNodeId: z.string().nullable(),
  state: runState,
  error: runError.nullable(),
  retryOfId: z.string().nullable(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  heartbeatAt: z.string().nullable(),
});
export type RunSummary = z.infer<typeof runSummary>;

/** A person's answer to the tool call a run is waiting to have approved. */
/** A request for a person's approval: the command (or tool call) as they will judge it, and why it is asked. */
export const pendingApproval = z.object({
  id: z.string(),
  /** The command, or for a tool the agent program asks about, its name and arguments. */
  command: z.string(),
  /** Where it would run; null for an in-process tool. */
  cwd: z.string().nullable(),
  reasons: z.array(z.string()).min(1),
});
export type PendingApproval = z.infer<typeof pendingApproval>;

export const approvalAnswer = z.strictObject({
  approved: z.boolean({ error: "must be true or false" }),
  reason: z.string().trim().max(1000, "must be at most 1000 characters").optional(),
});
export type ApprovalAnswer = z.infer<typeof approvalAnswer>;

export const conversationDetail = z.object({
  conversation: conversationSummary,
  /** The running run, else the oldest queued one, else null. */
  activeRun: runSummary.nullable(),
  /** Set when no enabled provider serves any of the agent's preferred models. */
  modelWarning: z
    .object({ code: z.literal("no_provider_for_model"), message: z.string(), models: z.array(z.string()) })
    .nullable(),
  /** Where coding tools run in this conversation (set with workspace_set); null until one is set or made. */
  workspace: z
    .object({
      territory: z.string(),
      /** The folder; null for a scratch folder the machine's Nexus keeps. */
      path: z.string().nullable(),
      online: z.boolean(),
    })
    .nullable()
    .optional(),
});
export type ConversationDetail = z.infer<typeof conversationDetail>;

export const toolCallState = z.enum(["pending", "running", "completed", "error"]);

/** A tool call as its card shows it: one task node of an agent message. */
export const toolCallPart = z.object({
  type: z.literal("tool_call"),
  /** The task node's id. */
  id: z.string(),
  callId: z.string(),
  name: z.string(),
  args: z.unknown(),
  state: toolCallState,
  result: z.unknown().optional(),
  error: z.string().optional(),
  durationMs: z.number().optional(),
  /** What the call does, for people ("Searched the web for “cats”"), from the tool's definition. */
  title: z.string().optional(),
  /** One line about the result, or what failed. */
  summary: z.string().optional(),
  /** The tool's structured extras for its card (a diff, a file's line range, an exit code). */
  details: z.record(z.string(), z.unknown()).optional(),
  /** While the call waits for a person: what to judge and the id to answer at `POST /api/approvals/:id`. */
  approval: pendingApproval.optional(),
  /** A call that runs as a directive on a Nexus: its output streams as `directive_output` events. */
  directive: z.object({ id: z.string(), territory: z.string() }).optional(),
  /** Cut short (state `error`): its reply was stopped before the call finished. */
  stopped: z.literal(true).optional(),
});
export type ToolCallPart = z.infer<typeof toolCallPart>;

/** Message parts: one union for the database JSON, the API, the SSE payloads and React. */
export const messagePart = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  toolCallPart,
]);
export type MessagePart = z.infer<typeof messagePart>;

export const messageState = z.enum(["pending", "streaming", "completed", "errored", "canceled"]);
export type MessageState = z.infer<typeof messageState>;

/** One bubble in the transcript: a user message or one agent message node (with its tool calls). */
export const transcriptMessage = z.object({
  id: z.string(),
  conversationId: z.string(),
  turnId: z.string(),
  runId: z.string().nullable(),
  role: z.enum(["user", "assistant"]),
  state: messageState,
  /** The text so far (the full text once completed). */
  text: z.string(),
  parts: z.array(messagePart),
  error: runError.nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type TranscriptMessage = z.infer<typeof transcriptMessage>;

export const messagesPage = z.object({
  messages: z.array(transcriptMessage),
  /** Pass as `before` to load older messages; null at the start of the conversation. */
  olderCursor: z.string().nullable(),
  /** The event cursor this page is consistent with: subscribe to events from here. */
  eventCursor: z.number().int(),
  /** The hook warnings of the page's runs (their `hook_warning` events, which lie below the cursor). */
  hookWarnings: z.array(hookWarning).optional(),
});
export type MessagesPage = z.infer<typeof messagesPage>;

export const updateConversationInput = z.object({
  title: storableText().trim().min(1, "is required").max(200, "is too long"),
});

export const postMessageInput = z.object({
  content: storableText().trim().min(1, "is required").max(200_000, "is too long"),
  /** A client-made id; resending with the same one returns the first result instead of a duplicate. */
  clientMessageId: storableText().max(100).optional(),
});
export type PostMessageInput = z.infer<typeof postMessageInput>;

export const postMessageResult = z.object({
  message: transcriptMessage,
  run: runSummary,
});
export type PostMessageResult = z.infer<typeof postMessageResult>;

/** POST /api/conversations. With `message`, the conversation is created and the message sent in one step. */
export const createConversationInput = z.object({
  agentProgramId: z.string().uuid("is not a valid agent id"),
  title: storableText().trim().max(200, "is too long").optional(),
  message: postMessageInput.optional(),
});
export type CreateConversationInput = z.infer<typeof createConversationInput>;

/** The answer to POST /api/conversations: the summary, or with `message` the summary and what the send made. */
export const createConversationResult = z.union([
  conversationSummary,
  z.object({ conversation: conversationSummary, message: transcriptMessage, run: runSummary }),
]);
export type CreateConversationResult = z.infer<typeof createConversationResult>;
export type ConversationStarted = Extract<CreateConversationResult, { conversation: unknown }>;
