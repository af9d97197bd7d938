import type {
  ConversationSummary,
  MessagePart,
  MessageState,
  PendingApproval,
  RunError,
  RunSummary,
  ToolCallPart,
  TranscriptMessage,
} from "@cybros/protocol";
import type { conversationRuns, conversations, nodes } from "../db/schema.js";
import type { LlmToolCallRef } from "../llm/index.js";
import { oneLine } from "../tools/define.js";
import { toolTitle } from "../tools/registry.js";

export type ConversationRow = typeof conversations.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type RunRow = typeof conversationRuns.$inferSelect;

/**
 * A node row made in full before its insert (the columns' defaults, written out), so the event presenting it can
 * go to the database with the insert instead of after its answer.
 */
export function newNode(
  values: Pick<NodeRow, "id" | "conversationId" | "turnId" | "turnSeq" | "position" | "kind" | "state" | "runId"> &
    Partial<NodeRow>,
): NodeRow {
  return {
    parentId: null,
    versionOfId: null,
    content: "",
    data: {},
    error: null,
    supersededAt: null,
    createdAt: new Date(),
    finishedAt: null,
    ...values,
  };
}

/** Stored on an agent message node: the tool calls exactly as the model sent them (argsText verbatim). */
export type ToolCallRecord = LlmToolCallRef;

/** Stored on a task node. */
export interface TaskData {
  callId: string;
  name: string;
  argsText: string;
  args?: unknown;
  output?: string;
  /** One line about the result (`title` in rows written before summaries). */
  summary?: string;
  title?: string;
  metadata?: Record<string, unknown>;
  isError?: boolean;
  durationMs?: number;
  /** Set while the call waits for a person's answer. */
  approval?: PendingApproval;
  /** The directive the call runs as, on which territory. */
  directive?: { id: string; territory: string };
}

export function presentConversation(row: ConversationRow, agentName: string): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    agentProgramId: row.agentProgramId,
    agentName,
    archivedAt: row.archivedAt?.toISOString() ?? null,
    lastMessageAt: row.lastMessageAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

// Presenters never show a row's turnSeq, so they take rows without it: a send presents its rows before the database
// has numbered the turn (appendUserMessage).
export function presentRun(row: Omit<RunRow, "turnSeq">): RunSummary {
  return {
    id: row.id,
    conversationId: row.conversationId,
    turnId: row.turnId,
    activeNodeId: row.activeNodeId,
    state: row.state,
    error: (row.error as RunError | null) ?? null,
    retryOfId: row.retryOfId,
    queuedAt: row.queuedAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    heartbeatAt: row.heartbeatAt?.toISOString() ?? null,
  };
}

const MESSAGE_STATES: Record<NodeRow["state"], MessageState> = {
  pending: "pending",
  running: "streaming",
  finished: "completed",
  errored: "errored",
  stopped: "canceled",
  skipped: "canceled",
};

export function presentToolPart(task: NodeRow): ToolCallPart {
  const data = task.data as unknown as TaskData;
  const state =
    task.state === "finished"
      ? data.isError
        ? "error"
        : "completed"
      : task.state === "running"
        ? "running"
        : task.state === "pending"
          ? "pending"
          : "error";
  return {
    type: "tool_call",
    id: task.id,
    callId: data.callId,
    name: data.name,
    args: data.args ?? data.argsText,
    state,
    title: toolTitle(data.name, data.args),
    ...(summaryOf(data) ? { summary: summaryOf(data) } : {}),
    ...(data.output !== undefined && !data.isError ? { result: data.output } : {}),
    ...(data.isError ? { error: data.output ?? task.error?.message ?? "failed" } : {}),
    ...(task.state !== "finished" && task.error ? { error: task.error.message } : {}),
    ...(data.durationMs !== undefined ? { durationMs: data.durationMs } : {}),
    ...(data.metadata ? { details: data.metadata } : {}),
    ...(data.approval && task.state === "running" ? { approval: data.approval } : {}),
    ...(data.directive ? { directive: data.directive } : {}),
    ...(task.state === "stopped" ? { stopped: true as const } : {}),
  };
}

function summaryOf(data: TaskData): string | undefined {
  const summary = data.summary ?? data.title;
  if (summary) return summary;
  return data.isError && data.output ? oneLine(data.output) : undefined;
}

/** A user or agent node as a transcript bubble; `text` overrides the stored content while streaming. */
export function presentMessage(
  node: Omit<NodeRow, "turnSeq">,
  tasks: NodeRow[] = [],
  text?: string,
): TranscriptMessage {
  const body = text ?? node.content;
  const parts: MessagePart[] = [];
  if (body) parts.push({ type: "text", text: body });
  for (const task of tasks) parts.push(presentToolPart(task));
  return {
    id: node.id,
    conversationId: node.conversationId,
    turnId: node.turnId,
    runId: node.runId,
    role: node.kind === "user_message" ? "user" : "assistant",
    state: node.kind === "user_message" ? "completed" : MESSAGE_STATES[node.state],
    text: body,
    parts,
    error: (node.error as RunError | null) ?? null,
    createdAt: node.createdAt.toISOString(),
    completedAt: node.finishedAt?.toISOString() ?? null,
  };
}
