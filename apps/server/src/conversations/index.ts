import type {
  ConversationSummary,
  CreateConversationInput,
  CreateConversationResult,
  MessagesPage,
  PostMessageInput,
  PostMessageResult,
  TranscriptMessage,
} from "@cybros/protocol";
import type { Current } from "../current.js";
import { conversationQueries, conversationWrites } from "../db/queries/conversations.js";
import { eventQueries } from "../db/queries/events.js";
import { nodeQueries } from "../db/queries/nodes.js";
import { runQueries } from "../db/queries/runs.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { EventDraft } from "../realtime/index.js";
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
export async function findOwned(services: Services, current: Current, id: string): Promise<ConversationRow> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundError("Conversation");
  const row = await conversationQueries(services.db).owned({ id, userId: current.user.id });
  if (!row) throw new NotFoundError("Conversation");
  return row;
}

export async function present(services: Services, row: ConversationRow): Promise<ConversationSummary> {
  const agentName = await conversationQueries(services.db).agentName(row.agentProgramId);
  return presentConversation(row, agentName ?? "Unknown agent");
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
  const agent = await conversationQueries(services.db).agentOf({
    agentProgramId: input.agentProgramId,
    accountId: current.account.id,
  });
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
  const conversation = conversationWrites(services.db).insert(row);
  if (!input.message) {
    await services.database.write({ conversation });
    return presentConversation(row, agent.name);
  }
  const send = planSend(services, row, input.message, now);
  const written = await services.database.write({ conversation, ...send.writes() });
  if (!written.ok) throw new Error("A new conversation's first send found its conversation missing");
  const title = send.title ?? row.title;
  send.publish(written.rows.sendEvents);
  await services.runs.enqueue(row.id, send.run.id);
  return {
    conversation: presentConversation({ ...row, title, lastTurnSeq: 1 }, agent.name),
    message: send.message,
    run: presentRun(send.run),
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
  let before: { lastMessageAt: Date; id?: string } | undefined;
  if (options.before) {
    const [time, id] = options.before.split("|");
    const lastMessageAt = new Date(time ?? "");
    if (!Number.isNaN(lastMessageAt.getTime())) before = { lastMessageAt, ...(id ? { id } : {}) };
  }
  const rows = await conversationQueries(services.db).page({
    userId: current.user.id,
    archived: Boolean(options.archived),
    ...(options.q ? { titleContains: options.q } : {}),
    ...(before ? { before } : {}),
    limit,
  });
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
  const updated = await conversationQueries(services.db).setArchived(row.id, archived);
  return present(services, updated!);
}

/** Everything goes: turns, nodes, runs, events (foreign keys cascade). Active work is canceled first. */
export async function deleteConversation(services: Services, row: ConversationRow): Promise<void> {
  await services.runs.cancelAllFor(row.id);
  await conversationQueries(services.db).delete(row.id);
}

/**
 * Appends a user message as a new turn with its run, serialized per conversation by the row lock: concurrent sends
 * get consecutive turns and never fork. The run scheduler writes it, starting its run here first when it can (the
 * provider request then leaves before the send is written, decisions/0041). Answers once the send is written.
 */
export async function appendUserMessage(
  services: Services,
  row: ConversationRow,
  input: PostMessageInput,
): Promise<PostMessageResult> {
  if (row.archivedAt) throw new ConflictError("conversation_archived", "Restore the conversation to continue it");
  const send = planSend(services, row, input, new Date());
  const written = await services.runs.send(send);
  if (!written.ok) {
    if (written.unmet === "lock") throw new NotFoundError("Conversation");
    return firstSend(services, row.id, input.clientMessageId!);
  }
  return { message: send.message, run: presentRun(written.run) };
}

/** A send planned but not yet written: its rows, its events, and the writes that make them (for one batch). */
export type PlannedSend = ReturnType<typeof planSend>;

/**
 * The writes of a send, for one batch (every statement goes to the database at once, so the transaction holds
 * PGlite only while they run; nothing needs an earlier statement's answer: the turn's seq is read in SQL), and
 * `publish`, for the events once the batch committed. The first message names a conversation still called
 * DEFAULT_TITLE. `turnSeq` is the seq the turn gets unless another send comes first: a run started before its send
 * is written builds its prompt on it, and its writes (`writes(lease)`) hold only if it is so.
 */
function planSend(
  services: Services,
  row: Pick<ConversationRow, "id" | "title" | "titleSource" | "lastTurnSeq">,
  input: PostMessageInput,
  now: Date,
) {
  const title = row.titleSource === "auto" && row.title === DEFAULT_TITLE ? titleFromMessage(input.content) : undefined;
  const turnId = uuidv7();
  const turnSeq = row.lastTurnSeq + 1;
  const run = {
    id: uuidv7(),
    conversationId: row.id,
    turnId,
    turnSeq,
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
  } satisfies RunRow;
  const node = {
    id: uuidv7(),
    conversationId: row.id,
    turnId,
    turnSeq,
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
  } satisfies NodeRow;
  const message = presentMessage(node);
  const drafts: EventDraft[] = [
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
  ];
  // Recorded only for the queued path: a started run records the drafts with its own events.
  let recorded: ReturnType<Services["realtime"]["recording"]> | undefined;
  const events = () => {
    recorded ??= services.realtime.recording(drafts);
    return recorded;
  };
  const rowWrites = (started?: Pick<RunRow, "workerId" | "leaseExpiresAt" | "startedAt" | "heartbeatAt">) =>
    conversationWrites(services.db).send({
      message: node,
      run: started ? { ...run, ...started, state: "running" } : run,
      at: now,
      title: title || null,
      ...(input.clientMessageId ? { clientMessageId: input.clientMessageId } : {}),
      ...(started ? { startsAtTurn: turnSeq } : {}),
    });
  return {
    conversationId: row.id,
    clientMessageId: input.clientMessageId ?? null,
    title,
    message,
    node,
    run,
    /** The send's events, for a caller that records them with its own (a started run's first batch). */
    drafts,
    /** The send, queued, with its events (`publish` them after the commit). */
    writes: () => ({ ...rowWrites(), sendEvents: events().write }),
    /** The send with its run running already under `started`'s lease, for `turnSeq`; its events not included. */
    startedWrites: (started: Pick<RunRow, "workerId" | "leaseExpiresAt" | "startedAt" | "heartbeatAt">) =>
      rowWrites(started),
    /** After the commit, with the rows the events' insert returned. */
    publish: (insertedEvents: readonly Record<string, unknown>[]) => {
      services.realtime.publish(events().envelopes(insertedEvents));
    },
  };
}

/** A resend with a known clientMessageId answers what the first send made, not a second turn. */
async function firstSend(services: Services, conversationId: string, clientMessageId: string) {
  const first = await nodeQueries(services.db).sentWith(conversationId, clientMessageId);
  if (!first) throw new NotFoundError("Conversation");
  return { message: presentMessage(first.node), run: presentRun(first.run) };
}

/** Text of a node still streaming: the live buffer when produced here, else its persisted chunks. */
async function streamingText(services: Services, node: NodeRow): Promise<string> {
  const live = services.streams.streamOf(node.id);
  if (live) return live.text;
  return eventQueries(services.db).chunkText(node.id);
}

/** The transcript, newest page first in the database but returned oldest-first for display. */
export async function messagesPage(
  services: Services,
  row: ConversationRow,
  options: { before?: string; limit?: number },
): Promise<MessagesPage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  // The cursor is read first: events after it may already be in the page, and clients apply them idempotently.
  const lastSeq = await conversationQueries(services.db).lastSeq(row.id);
  let before: { turnSeq: number; position: number } | undefined;
  if (options.before) {
    const [turnSeq, position] = options.before.split(".").map(Number);
    if (Number.isInteger(turnSeq) && Number.isInteger(position)) before = { turnSeq: turnSeq!, position: position! };
  }
  const rows = await nodeQueries(services.db).transcriptPage({
    conversationId: row.id,
    ...(before ? { before } : {}),
    limit,
  });
  const page = rows.slice(0, limit).reverse();
  const messages = await presentNodes(services, page);
  const oldest = page[0];
  return {
    messages,
    olderCursor: rows.length > limit && oldest ? `${oldest.turnSeq}.${oldest.position}` : null,
    eventCursor: lastSeq,
  };
}

export async function presentNodes(services: Services, page: NodeRow[]): Promise<TranscriptMessage[]> {
  const agentIds = page.filter((n) => n.kind !== "user_message").map((n) => n.id);
  const tasks = agentIds.length ? await nodeQueries(services.db).tasksOf(agentIds) : [];
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
  const run = await runQueries(services.db).activeOf(conversationId);
  return run ? presentRun(run) : null;
}
