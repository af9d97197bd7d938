import type {
  ConversationSummary,
  CreateConversationInput,
  CreateConversationResult,
  MessagesPage,
  PostMessageInput,
  PostMessageResult,
  TranscriptMessage,
} from "@cybros/protocol";
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Current } from "../current.js";
import { type BatchStatement, batchStatement, builtOnce, columnPlaceholders, statementTemplate } from "../db/index.js";
import { agentPrograms, conversationEvents, conversationRuns, conversations, nodes, turns } from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import {
  type ConversationRow,
  type NodeRow,
  presentConversation,
  presentMessage,
  presentRun,
  type RunRow,
} from "./present.js";
import { DEFAULT_TITLE, retitle, titleFromMessage } from "./title.js";

/** Loads a conversation the current user owns; anything else is "not found" (no probing of ids). */
const ownedConversation = builtOnce((db) =>
  db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, sql.placeholder("id")), eq(conversations.userId, sql.placeholder("userId"))))
    .prepare("owned_conversation"),
);

export async function findOwned(services: Services, current: Current, id: string): Promise<ConversationRow> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundError("Conversation");
  const [row] = await ownedConversation(services.db).execute({ id, userId: current.user.id });
  if (!row) throw new NotFoundError("Conversation");
  return row;
}

async function agentNameOf(services: Services, agentProgramId: string): Promise<string> {
  const [row] = await services.db
    .select({ name: agentPrograms.name })
    .from(agentPrograms)
    .where(eq(agentPrograms.id, agentProgramId));
  return row?.name ?? "Unknown agent";
}

export async function present(services: Services, row: ConversationRow): Promise<ConversationSummary> {
  return presentConversation(row, await agentNameOf(services, row.agentProgramId));
}

/**
 * A new conversation with an agent of the account. With `message`, the conversation and its first message are
 * one transaction (no empty conversation is left when the send fails) and the reply starts at once.
 */
export async function createConversation(
  services: Services,
  current: Current,
  input: CreateConversationInput,
): Promise<CreateConversationResult> {
  const [agent] = await services.db
    .select()
    .from(agentPrograms)
    .where(
      and(
        eq(agentPrograms.id, input.agentProgramId),
        eq(agentPrograms.accountId, current.account.id),
        isNull(agentPrograms.deletedAt),
      ),
    );
  if (!agent) throw new ValidationError({ agentProgramId: "does not name an agent of this account" });
  const now = new Date();
  const row: ConversationRow = {
    id: uuidv7(),
    accountId: current.account.id,
    userId: current.user.id,
    agentProgramId: agent.id,
    workspaceFacilityId: null,
    title: input.title || DEFAULT_TITLE,
    titleSource: input.title ? "person" : "auto",
    lastSeq: 0,
    lastTurnSeq: 0,
    archivedAt: null,
    lastMessageAt: now,
    createdAt: now,
    updatedAt: now,
  };
  const insert = batchStatement(services.db.insert(conversations).values(row));
  if (!input.message) {
    await services.database.batch([insert]);
    return presentConversation(row, agent.name);
  }
  const send = planSend(services, row, input.message, now);
  const outcome = await services.database.lane("send").batch([insert, ...send.statements]);
  if (!outcome.ok) throw new Error("A new conversation's first send found its conversation missing");
  const title = send.title ?? row.title;
  await send.commit(outcome.results.at(-1)!.rows);
  return {
    conversation: presentConversation({ ...row, title, lastTurnSeq: 1 }, agent.name),
    message: send.message,
    run: send.run,
  };
}

export interface ListOptions {
  q?: string;
  archived?: boolean;
  /** ISO time of the oldest activity already shown. */
  before?: string;
  limit?: number;
}

export async function listConversations(
  services: Services,
  current: Current,
  options: ListOptions,
): Promise<{ conversations: ConversationSummary[]; olderCursor: string | null }> {
  const limit = Math.min(Math.max(options.limit ?? 30, 1), 100);
  const filters = [
    eq(conversations.userId, current.user.id),
    options.archived ? isNotNull(conversations.archivedAt) : isNull(conversations.archivedAt),
    // A conversation without a message (made through the API, or before sends created them) is not listed.
    gt(conversations.lastTurnSeq, 0),
  ];
  if (options.q) filters.push(sql`${conversations.title} ILIKE ${`%${options.q.replace(/[\\%_]/g, "\\$&")}%`}`);
  if (options.before) {
    const [time, id] = options.before.split("|");
    const at = new Date(time ?? "");
    if (!Number.isNaN(at.getTime())) {
      filters.push(
        id
          ? or(lt(conversations.lastMessageAt, at), and(eq(conversations.lastMessageAt, at), lt(conversations.id, id)))!
          : lt(conversations.lastMessageAt, at),
      );
    }
  }
  const rows = await services.db
    .select({ conversation: conversations, agentName: agentPrograms.name })
    .from(conversations)
    .innerJoin(agentPrograms, eq(agentPrograms.id, conversations.agentProgramId))
    .where(and(...filters))
    .orderBy(desc(conversations.lastMessageAt), desc(conversations.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1)?.conversation;
  return {
    conversations: page.map((r) => presentConversation(r.conversation, r.agentName)),
    olderCursor: rows.length > limit && last ? `${last.lastMessageAt.toISOString()}|${last.id}` : null,
  };
}

/** A title the person chose: automatic titles never replace it. */
export async function renameConversation(services: Services, row: ConversationRow, title: string) {
  const updated = await retitle(services, row.id, title, "person");
  if (!updated) throw new NotFoundError("Conversation");
  return present(services, updated);
}

export async function setArchived(services: Services, row: ConversationRow, archived: boolean) {
  const [updated] = await services.db
    .update(conversations)
    .set({ archivedAt: archived ? new Date() : null, updatedAt: new Date() })
    .where(eq(conversations.id, row.id))
    .returning();
  return present(services, updated!);
}

/** Everything goes: turns, nodes, runs, events (foreign keys cascade). Active work is canceled first. */
export async function deleteConversation(services: Services, row: ConversationRow): Promise<void> {
  await services.runs.cancelAllFor(row.id);
  await services.db.delete(conversations).where(eq(conversations.id, row.id));
}

/** The statements of a send, built once (decisions/0016); `turn_seq` is read in SQL from the locked conversation. */
const sendStatements = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  const turnSeq = sql`(SELECT ${conversations.lastTurnSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`;
  return {
    // Takes the conversation's row lock first: concurrent sends get consecutive turns.
    lock: statementTemplate<{ conversationId: string; now: string; title: string | null }>(
      db
        .update(conversations)
        .set({
          lastTurnSeq: sql`${conversations.lastTurnSeq} + 1`,
          lastMessageAt: sql`${sql.placeholder("now")}::timestamptz`,
          title: sql`coalesce(${sql.placeholder("title")}::text, ${conversations.title})`,
        })
        .where(eq(conversations.id, conversationId))
        .returning({ id: conversations.id }),
      "some",
    ),
    // After the lock, so a concurrent send with the same id has committed its turn by then.
    noEarlierSend: statementTemplate<{ conversationId: string; clientMessageId: string }>(
      db
        .select({ id: nodes.id })
        .from(nodes)
        .where(
          and(
            eq(nodes.conversationId, conversationId),
            eq(nodes.kind, "user_message"),
            sql`${nodes.data}->>'clientMessageId' = ${sql.placeholder("clientMessageId")}`,
          ),
        ),
      "none",
    ),
    turn: statementTemplate<{ id: string; conversationId: string; createdAt: Date }>(
      db
        .insert(turns)
        .values({ id: sql.placeholder("id"), conversationId, seq: turnSeq, createdAt: sql.placeholder("createdAt") }),
    ),
    node: statementTemplate<Omit<NodeRow, "turnSeq">>(
      db.insert(nodes).values({ ...columnPlaceholders(nodes), turnSeq }),
    ),
    run: statementTemplate<Omit<RunRow, "turnSeq">>(
      db.insert(conversationRuns).values({ ...columnPlaceholders(conversationRuns), turnSeq }),
    ),
  };
});

/**
 * Appends a user message as a new turn with its queued run, serialized per conversation by the row lock:
 * concurrent sends get consecutive turns and never fork. Answers at once; the run starts right after commit.
 */
export async function appendUserMessage(
  services: Services,
  row: ConversationRow,
  input: PostMessageInput,
): Promise<PostMessageResult> {
  if (row.archivedAt) throw new ConflictError("conversation_archived", "Restore the conversation to continue it");
  const send = planSend(services, row, input, new Date());
  // In the `send` lane: a message being committed goes ahead of other requests' reads (decisions/0019).
  const outcome = await services.database.lane("send").batch(send.statements);
  if (!outcome.ok) {
    if (outcome.unmet === 0) throw new NotFoundError("Conversation");
    return firstSend(services, row.id, input.clientMessageId!);
  }
  await send.commit(outcome.results.at(-1)!.rows);
  return { message: send.message, run: send.run };
}

/**
 * The statements of a send, for one batch (every statement goes to the database at once, so the transaction
 * holds PGlite only while they run; nothing needs an earlier statement's answer: the turn's seq is read in SQL),
 * and `commit`, which publishes its events and starts the run once the batch committed. The first message names
 * a conversation still called DEFAULT_TITLE.
 */
function planSend(
  services: Services,
  row: Pick<ConversationRow, "id" | "title" | "titleSource">,
  input: PostMessageInput,
  now: Date,
) {
  const title = row.titleSource === "auto" && row.title === DEFAULT_TITLE ? titleFromMessage(input.content) : undefined;
  const turnId = uuidv7();
  const run = {
    id: uuidv7(),
    conversationId: row.id,
    turnId,
    state: "queued",
    activeNodeId: null,
    retryOfId: null,
    error: null,
    workerId: null,
    leaseExpiresAt: null,
    cancelRequestedAt: null,
    queuedAt: now,
    startedAt: null,
    heartbeatAt: null,
    finishedAt: null,
  } satisfies Omit<RunRow, "turnSeq">;
  const node = {
    id: uuidv7(),
    conversationId: row.id,
    turnId,
    position: 0,
    kind: "user_message",
    state: "finished",
    parentId: null,
    versionOfId: null,
    runId: run.id,
    content: input.content,
    data: input.clientMessageId ? { clientMessageId: input.clientMessageId } : {},
    error: null,
    supersededAt: null,
    createdAt: now,
    finishedAt: now,
  } satisfies Omit<NodeRow, "turnSeq">;
  const message = presentMessage(node);
  const events = services.realtime.recording([
    {
      conversationId: row.id,
      turnId,
      runId: run.id,
      nodeId: node.id,
      kind: "message_created",
      payload: { message, ...(input.clientMessageId ? { clientMessageId: input.clientMessageId } : {}) },
    },
    { conversationId: row.id, turnId, runId: run.id, kind: "run_queued", payload: { run: presentRun(run) } },
    ...(title !== undefined && title !== row.title
      ? [{ conversationId: row.id, kind: "conversation_updated" as const, payload: { title } }]
      : []),
  ]);
  const statements = sendStatements(services.db);
  const batch: BatchStatement[] = [
    statements.lock({ conversationId: row.id, now: now.toISOString(), title: title || null }),
    ...(input.clientMessageId
      ? [statements.noEarlierSend({ conversationId: row.id, clientMessageId: input.clientMessageId })]
      : []),
    statements.turn({ id: turnId, conversationId: row.id, createdAt: now }),
    statements.node(node),
    statements.run(run),
    batchStatement(events.query),
  ];
  return {
    statements: batch,
    title,
    message,
    run: presentRun(run),
    /** After the commit, with the rows the events' insert returned. */
    commit: async (insertedEvents: readonly Record<string, unknown>[]) => {
      services.realtime.publish(events.envelopes(insertedEvents));
      await services.runs.enqueue(row.id, run.id);
    },
  };
}

/** A resend with a known clientMessageId answers what the first send made, not a second turn. */
async function firstSend(services: Services, conversationId: string, clientMessageId: string) {
  const [first] = await services.db
    .select({ node: nodes, run: conversationRuns })
    .from(nodes)
    .innerJoin(conversationRuns, eq(conversationRuns.turnId, nodes.turnId))
    .where(
      and(
        eq(nodes.conversationId, conversationId),
        eq(nodes.kind, "user_message"),
        sql`${nodes.data}->>'clientMessageId' = ${clientMessageId}`,
      ),
    )
    .orderBy(desc(conversationRuns.queuedAt))
    .limit(1);
  if (!first) throw new NotFoundError("Conversation");
  return { message: presentMessage(first.node), run: presentRun(first.run) };
}

/** Text of a node still streaming: the live buffer when produced here, else its persisted chunks. */
async function streamingText(services: Services, node: NodeRow): Promise<string> {
  const live = services.streams.streamOf(node.id);
  if (live) return live.text;
  const chunks = await services.db
    .select({ text: conversationEvents.text })
    .from(conversationEvents)
    .where(and(eq(conversationEvents.nodeId, node.id), eq(conversationEvents.kind, "stream_chunk")))
    .orderBy(asc(conversationEvents.seq));
  return chunks.map((c) => c.text ?? "").join("");
}

const VISIBLE_KINDS = ["user_message", "agent_message", "character_message"] as const;

/** The transcript, newest page first in the database but returned oldest-first for display. */
export async function messagesPage(
  services: Services,
  row: ConversationRow,
  options: { before?: string; limit?: number },
): Promise<MessagesPage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  // The cursor is read first: events after it may already be in the page, and clients apply them idempotently.
  const [{ lastSeq } = { lastSeq: 0 }] = await services.db
    .select({ lastSeq: conversations.lastSeq })
    .from(conversations)
    .where(eq(conversations.id, row.id));
  const filters = [
    eq(nodes.conversationId, row.id),
    inArray(nodes.kind, [...VISIBLE_KINDS]),
    isNull(nodes.supersededAt),
  ];
  if (options.before) {
    const [turnSeq, position] = options.before.split(".").map(Number);
    if (Number.isInteger(turnSeq) && Number.isInteger(position)) {
      filters.push(or(lt(nodes.turnSeq, turnSeq!), and(eq(nodes.turnSeq, turnSeq!), lt(nodes.position, position!)))!);
    }
  }
  const rows = await services.db
    .select()
    .from(nodes)
    .where(and(...filters))
    .orderBy(desc(nodes.turnSeq), desc(nodes.position))
    .limit(limit + 1);
  const page = rows.slice(0, limit).reverse();
  const messages = await presentNodes(services, page);
  const oldest = page[0];
  return {
    messages,
    olderCursor: rows.length > limit && oldest ? `${oldest.turnSeq}.${oldest.position}` : null,
    eventCursor: Number(lastSeq),
  };
}

export async function presentNodes(services: Services, page: NodeRow[]): Promise<TranscriptMessage[]> {
  const agentIds = page.filter((n) => n.kind !== "user_message").map((n) => n.id);
  const tasks = agentIds.length
    ? await services.db
        .select()
        .from(nodes)
        .where(and(inArray(nodes.parentId, agentIds), eq(nodes.kind, "task")))
        .orderBy(asc(nodes.turnSeq), asc(nodes.position))
    : [];
  const tasksByParent = new Map<string, NodeRow[]>();
  for (const task of tasks) {
    const list = tasksByParent.get(task.parentId!) ?? [];
    list.push(task);
    tasksByParent.set(task.parentId!, list);
  }
  const messages: TranscriptMessage[] = [];
  for (const node of page) {
    const text = node.state === "running" ? await streamingText(services, node) : undefined;
    messages.push(presentMessage(node, tasksByParent.get(node.id), text));
  }
  return messages;
}

/** The run doing work now: the running one, else the oldest queued. */
export async function activeRun(services: Services, conversationId: string) {
  const [run] = await services.db
    .select()
    .from(conversationRuns)
    .where(
      and(eq(conversationRuns.conversationId, conversationId), inArray(conversationRuns.state, ["running", "queued"])),
    )
    .orderBy(sql`CASE WHEN ${conversationRuns.state} = 'running' THEN 0 ELSE 1 END`, asc(conversationRuns.queuedAt))
    .limit(1);
  return run ? presentRun(run) : null;
}
