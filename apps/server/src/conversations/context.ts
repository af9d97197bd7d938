import { and, asc, desc, eq, gt, inArray, isNull, lte, sql } from "drizzle-orm";
import { unionAll } from "drizzle-orm/pg-core";
import { builtOnce, type Db } from "../db/index.js";
import { nodes } from "../db/schema.js";
import type { ChatMessage } from "../llm/index.js";
import type { NodeRow, TaskData, ToolCallRecord } from "./present.js";
import { type PromptImages, toolImageMessage } from "./tool-images.js";

/** A provider-neutral chat message; the LLM client maps it to its wire format. */
export type PromptMessage = ChatMessage;

export const DEFAULT_WINDOW_TURNS = 50;
const INTERRUPTED_TOOL_RESULT = "(no result: the run ended before this tool finished)";

/** What a prompt needs of a node; the rest of the row is never read, so it is never fetched. */
const contextColumns = {
  id: nodes.id,
  kind: nodes.kind,
  state: nodes.state,
  content: nodes.content,
  data: nodes.data,
  parentId: nodes.parentId,
  turnSeq: nodes.turnSeq,
  position: nodes.position,
};
export type ContextNode = Pick<NodeRow, keyof typeof contextColumns>;

const contextQuery = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  const from = sql.placeholder("from");
  const turnSeq = sql.placeholder("turnSeq");
  const summary = db
    .select(contextColumns)
    .from(nodes)
    .where(
      and(
        eq(nodes.conversationId, conversationId),
        // A literal, not a parameter, so the planner can use the partial index nodes_summary_idx.
        sql`${nodes.kind} = 'summary'`,
        lte(nodes.turnSeq, from),
        isNull(nodes.supersededAt),
      ),
    )
    .orderBy(desc(nodes.turnSeq), desc(nodes.position))
    .limit(1);
  const window = db
    .select(contextColumns)
    .from(nodes)
    .where(
      and(
        eq(nodes.conversationId, conversationId),
        gt(nodes.turnSeq, from),
        lte(nodes.turnSeq, turnSeq),
        isNull(nodes.supersededAt),
        inArray(nodes.kind, [
          "user_message",
          "agent_message",
          "character_message",
          "task",
          "system_message",
          "developer_message",
        ]),
      ),
    );
  // The summary is older than every turn in the window, so turn order puts it first.
  return unionAll(summary, window).orderBy(asc(nodes.turnSeq), asc(nodes.position)).prepare("context_nodes");
});

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
  return contextQuery(db).execute({ conversationId, turnSeq, from: turnSeq - windowTurns });
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
