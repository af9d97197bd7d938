import type { Db } from "../db/index.js";
import { type ContextNode, nodeQueries } from "../db/queries/nodes.js";
import type { ChatMessage } from "../llm/index.js";
import type { TaskData, ToolCallRecord } from "./present.js";
import { type PromptImages, toolImageMessage } from "./tool-images.js";

/** A provider-neutral chat message; the LLM client maps it to its wire format. */
export type PromptMessage = ChatMessage;

export const DEFAULT_WINDOW_TURNS = 50;
const INTERRUPTED_TOOL_RESULT = "(no result: the run ended before this tool finished)";

export type { ContextNode } from "../db/queries/nodes.js";

/**
 * The nodes the model sees for a turn: the newest `windowTurns` turns up to and including this one, plus the
 * newest summary older than the window. One statement of two index range scans (the summary through a partial
 * index), so the cost grows with the window, never with the conversation's history.
 */
export async function contextNodes(
  db: Db,
  conversationId: string,
  turnSeq: number,
  windowTurns = DEFAULT_WINDOW_TURNS,
): Promise<ContextNode[]> {
  return nodeQueries(db).contextWindow({ conversationId, turnSeq, fromTurnSeq: turnSeq - windowTurns });
}

/**
 * Maps nodes to messages. Errored replies and unfinished tool calls are left out, so a retry or a failure leaves
 * nothing stale in later prompts; a stopped reply keeps the text the person saw. Deterministic: the same nodes
 * always give byte-identical messages (prompt caching depends on it).
 */
export function toPromptMessages(
  context: ContextNode[],
  excludeNodeId?: string,
  /** Tool results' images for a model that accepts them (tool-images.ts); without, none are given. */
  images?: PromptImages,
): PromptMessage[] {
  const messages: PromptMessage[] = [];
  const tasksByCall = new Map<string, ContextNode>();
  for (const node of context) {
    if (node.kind === "task") tasksByCall.set(`${node.parentId}:${(node.data as unknown as TaskData).callId}`, node);
  }
  for (const node of context) {
    if (node.id === excludeNodeId) continue;
    switch (node.kind) {
      case "summary":
        messages.push({ role: "system", content: `<summary>\n${node.content}\n</summary>` });
        break;
      case "system_message":
      case "developer_message":
        messages.push({ role: "system", content: node.content });
        break;
      case "user_message":
        messages.push({ role: "user", content: node.content });
        break;
      case "agent_message":
      case "character_message": {
        if (node.state === "errored" || node.state === "pending" || node.state === "running") break;
        const toolCalls =
          node.state === "finished" ? ((node.data.toolCalls as ToolCallRecord[] | undefined) ?? []) : [];
        if (!node.content && toolCalls.length === 0) break;
        messages.push(
          toolCalls.length
            ? { role: "assistant", content: node.content, toolCalls }
            : { role: "assistant", content: node.content },
        );
        for (const call of toolCalls) {
          const task = tasksByCall.get(`${node.id}:${call.callId}`);
          const data = task?.data as unknown as TaskData | undefined;
          const content =
            task?.state === "finished" && data?.output !== undefined ? data.output : INTERRUPTED_TOOL_RESULT;
          const shown = toolImageMessage(call.name, task?.state === "finished" ? data : undefined, images);
          messages.push({ role: "tool", toolCallId: call.callId, toolName: call.name, content: content + shown.note });
          if (shown.message) messages.push(shown.message);
        }
        break;
      }
      default:
        break;
    }
  }
  return messages;
}
