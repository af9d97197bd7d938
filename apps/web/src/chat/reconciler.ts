import type {
  EventEnvelope,
  EventKind,
  EventOf,
  DirectiveOutput as FetchedOutput,
  HookWarning,
  MessageState,
  MessagesPage,
  PayloadOf,
  PostMessageResult,
  RunError,
  RunState,
  RunSummary,
  StepKind,
  ToolCallPart,
  TranscriptMessage,
} from "@cybros/protocol";
import {
  appendOutput,
  type DirectiveView,
  emptyDirectiveView,
  finalDirectiveStates,
  mergeFetchedOutput,
  setDirectiveState,
} from "./directiveOutput";
import {
  DEFAULT_THRESHOLDS,
  type Indicator,
  type IndicatorInput,
  idleIndicator,
  nextIndicator,
  type StuckThresholds,
  type Waiting,
} from "./indicator";

/**
 * The chat's client state, rebuilt from two sources: the messages page (HTTP, the truth) and the event stream
 * (best effort, possibly duplicated, reordered or with holes). Every function here is pure and idempotent, so
 * applying an event twice, late, or after a snapshot that already holds it changes nothing.
 * Messages are ordered by (turn, role, id) — ids and turn ids are UUIDv7 — never by arrival.
 */

export type ApprovalDecision = PayloadOf<"approval_resolved">["decision"];

export type ToolPart = ToolCallPart & {
  /** Where `approval` came from (an event's seq, a page's cursor): a later page without it means it was answered. */
  approvalSeq?: number | null;
  /** The answer to the approval this call asked for; that request is never shown again. */
  decided?: { id: string; decision: ApprovalDecision };
};

export interface LocalStatus {
  /** Send order on this page; optimistic bubbles sort after every server message, in this order. */
  order: number;
  status: "queued" | "sending" | "failed";
  error: string | null;
}

export interface ChatMessage {
  /** The server's node id, or `local:<clientMessageId>` before the server acknowledged the message. */
  id: string;
  clientMessageId: string | null;
  turnId: string | null;
  runId: string | null;
  role: "user" | "assistant";
  state: MessageState;
  text: string;
  tools: readonly ToolPart[];
  error: RunError | null;
  createdAt: string;
  completedAt: string | null;
  /** A chunk starting beyond the text held arrived: the text stays as it is until the gap is filled. */
  gap: boolean;
  /** Chunks that arrived ahead of the text held, applied as soon as the gap closes. */
  ahead: readonly { offset: number; text: string }[];
  /** Seq at which we learned of this message (an event's or a snapshot's cursor); null if unknown. */
  origin: number | null;
  /** Known only from streamed events so far (no message_created or snapshot yet). */
  placeholder: boolean;
  local: LocalStatus | null;
}

export interface RunView {
  id: string;
  turnId: string | null;
  state: RunState;
  error: RunError | null;
  /** The node being produced, as the server said (never inferred from the latest message). */
  activeNodeId: string | null;
  retryOfId: string | null;
  indicator: Indicator;
}

export interface ChatState {
  conversationId: string;
  messages: ReadonlyMap<string, ChatMessage>;
  /** Message ids in display order. */
  order: readonly string[];
  runs: ReadonlyMap<string, RunView>;
  /** Every event with seq ≤ floor is reflected (a snapshot's eventCursor). */
  floor: number;
  /** Seqs above the floor already applied, so replays and duplicates are dropped but late events are not. */
  seen: ReadonlySet<number>;
  /** Highest seq applied: where a stream resumes. */
  cursor: number;
  /** A gap or divergence was found: the messages page should be fetched again. */
  resync: boolean;
  counts: Readonly<Partial<Record<EventKind, number>>>;
  /** Duplicates and stale events dropped. */
  dropped: number;
  lastHeartbeatAt: number | null;
  olderCursor: string | null;
  loaded: boolean;
  nextLocalOrder: number;
  /** Nodes replaced by a retry: gone from the transcript, and late events must not bring them back. */
  superseded: ReadonlySet<string>;
  /** What each tool call's directive printed, by the call's task node id. */
  outputs: ReadonlyMap<string, DirectiveView>;
  /** Hooks that failed or could not run, by run: the turn went on without them (events and pages both say so). */
  hookWarnings: ReadonlyMap<string, readonly HookWarning[]>;
  thresholds: StuckThresholds;
}

const SEEN_LIMIT = 1024;
const AHEAD_LIMIT = 512;

export function emptyChatState(conversationId: string, thresholds: StuckThresholds = DEFAULT_THRESHOLDS): ChatState {
  return {
    conversationId,
    messages: new Map(),
    order: [],
    runs: new Map(),
    floor: 0,
    seen: new Set(),
    cursor: 0,
    resync: false,
    counts: {},
    dropped: 0,
    lastHeartbeatAt: null,
    olderCursor: null,
    loaded: false,
    nextLocalOrder: 1,
    superseded: new Set(),
    outputs: new Map(),
    hookWarnings: new Map(),
    thresholds,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Ordering

const roleRank = { user: 0, assistant: 1 } as const;

/**
 * Before turn order: the server's messages, then the person's sends it has not confirmed, then replies known only
 * from their text, which are newer than both (a reply streams before its node and its send are written,
 * decisions/0042).
 */
const groupOf = (m: ChatMessage) => (m.local ? 1 : m.placeholder ? 2 : 0);

export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  const group = groupOf(a) - groupOf(b);
  if (group !== 0) return group;
  if (a.local && b.local) return a.local.order - b.local.order;
  const turn = compareStrings(a.turnId ?? "", b.turnId ?? "");
  if (turn !== 0) return turn;
  const role = roleRank[a.role] - roleRank[b.role];
  if (role !== 0) return role;
  return compareStrings(a.id, b.id);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// A draft: copies made once per batch, mutated while the batch applies, frozen into the next state.

interface Draft {
  base: ChatState;
  messages: Map<string, ChatMessage>;
  touched: Set<string>;
  order: string[] | null;
  runs: Map<string, RunView>;
  seen: Set<number>;
  counts: Partial<Record<EventKind, number>>;
  floor: number;
  cursor: number;
  resync: boolean;
  dropped: number;
  lastHeartbeatAt: number | null;
  nextLocalOrder: number;
  superseded: Set<string> | null;
  outputs: Map<string, DirectiveView> | null;
  hookWarnings: Map<string, readonly HookWarning[]> | null;
}

function draft(state: ChatState): Draft {
  return {
    base: state,
    messages: new Map(state.messages),
    touched: new Set(),
    order: null,
    runs: new Map(state.runs),
    seen: new Set(state.seen),
    counts: { ...state.counts },
    floor: state.floor,
    cursor: state.cursor,
    resync: state.resync,
    dropped: state.dropped,
    lastHeartbeatAt: state.lastHeartbeatAt,
    nextLocalOrder: state.nextLocalOrder,
    superseded: null,
    outputs: null,
    hookWarnings: null,
  };
}

function finish(d: Draft, extra: Partial<ChatState> = {}): ChatState {
  return {
    ...d.base,
    messages: d.messages,
    order: d.order ?? d.base.order,
    runs: d.runs,
    seen: d.seen,
    counts: d.counts,
    floor: d.floor,
    cursor: d.cursor,
    resync: d.resync,
    dropped: d.dropped,
    lastHeartbeatAt: d.lastHeartbeatAt,
    nextLocalOrder: d.nextLocalOrder,
    superseded: d.superseded ?? d.base.superseded,
    outputs: d.outputs ?? d.base.outputs,
    hookWarnings: d.hookWarnings ?? d.base.hookWarnings,
    ...extra,
  };
}

function orderOf(d: Draft): string[] {
  if (!d.order) d.order = [...d.base.order];
  return d.order;
}

/** Writes a message and keeps the display order sorted (binary insertion; ids move only when their key does). */
function put(d: Draft, message: ChatMessage, previous?: ChatMessage) {
  const existing = previous ?? d.messages.get(message.id);
  d.messages.set(message.id, message);
  d.touched.add(message.id);
  if (existing && compareMessages(existing, message) === 0 && existing.id === message.id) return;
  const order = orderOf(d);
  if (existing) remove(order, existing.id);
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const other = d.messages.get(order[mid]!)!;
    if (compareMessages(other, message) < 0) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, message.id);
}

function drop(d: Draft, id: string) {
  if (!d.messages.delete(id)) return;
  remove(orderOf(d), id);
}

function remove(order: string[], id: string) {
  const index = order.indexOf(id);
  if (index !== -1) order.splice(index, 1);
}

/** The message to modify: the batch's own copy, made on first touch. */
function editable(d: Draft, id: string): ChatMessage | undefined {
  const message = d.messages.get(id);
  if (!message || d.touched.has(id)) return message;
  const copy = { ...message };
  d.messages.set(id, copy);
  d.touched.add(id);
  return copy;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

const stateRank: Record<MessageState, number> = { pending: 0, streaming: 1, completed: 2, errored: 2, canceled: 2 };
const toolRank = { pending: 0, running: 1, completed: 2, error: 2 } as const;

function isTerminal(state: MessageState) {
  return stateRank[state] === 2;
}

function fromTranscript(m: TranscriptMessage, origin: number | null, clientMessageId: string | null): ChatMessage {
  return {
    id: m.id,
    clientMessageId,
    turnId: m.turnId,
    runId: m.runId,
    role: m.role,
    state: m.state,
    text: m.text,
    tools: m.parts
      .filter((p): p is ToolCallPart => p.type === "tool_call")
      .map((p) => (p.approval ? { ...p, approvalSeq: origin } : p)),
    error: m.error,
    createdAt: m.createdAt,
    completedAt: m.completedAt,
    gap: false,
    ahead: [],
    origin,
    placeholder: false,
    local: null,
  };
}

function mergeTools(held: readonly ToolPart[], incoming: ChatMessage): readonly ToolPart[] {
  if (incoming.tools.length === 0) return held;
  const next = [...held];
  for (const part of incoming.tools) upsertTool(next, part, incoming.origin);
  return next;
}

function isToolDone(part: ToolPart): boolean {
  return toolRank[part.state] === 2;
}

/**
 * A tool part's state only moves forward: a late tool_call never undoes a result. `page` is the seq a messages
 * page (or a message in an event) was true at; a tool event passes null, and never takes an approval away.
 */
function upsertTool(tools: ToolPart[], part: ToolPart, page: number | null) {
  const index = tools.findIndex((t) => t.id === part.id);
  if (index === -1) {
    tools.push(withoutStaleApproval(part));
    return;
  }
  const held = tools[index]!;
  if (toolRank[part.state] < toolRank[held.state]) return;
  let next: ToolPart = { ...held, ...part };
  // Held since before the page was made, and the page no longer has it: it was answered meanwhile.
  if (!part.approval && held.approval && page !== null && (held.approvalSeq ?? -1) <= page) {
    next = { ...next, approval: undefined, approvalSeq: undefined };
  }
  tools[index] = withoutStaleApproval(next);
}

/** A finished call or an answered request asks nothing more. */
function withoutStaleApproval(part: ToolPart): ToolPart {
  if (!part.approval) return part;
  if (!isToolDone(part) && part.decided?.id !== part.approval.id) return part;
  const { approval: _, approvalSeq: __, ...rest } = part;
  return rest;
}

/**
 * A server message meets what we hold. A terminal server message is final (its full text wins); otherwise text
 * only grows, and state never moves backwards.
 */
function mergeServerMessage(held: ChatMessage, incoming: ChatMessage): ChatMessage {
  const base: ChatMessage = {
    ...held,
    turnId: incoming.turnId ?? held.turnId,
    runId: incoming.runId ?? held.runId,
    role: incoming.role,
    createdAt: held.placeholder ? incoming.createdAt : held.createdAt,
    origin: held.origin ?? incoming.origin,
    placeholder: false,
    clientMessageId: held.clientMessageId ?? incoming.clientMessageId,
    tools: mergeTools(held.tools, incoming),
  };
  if (isTerminal(incoming.state)) {
    return {
      ...base,
      state: incoming.state,
      text: incoming.text,
      error: incoming.error ?? held.error,
      completedAt: incoming.completedAt ?? held.completedAt,
      gap: false,
      ahead: [],
    };
  }
  if (isTerminal(held.state)) return base;
  return drainAhead({
    ...base,
    state: stateRank[incoming.state] > stateRank[held.state] ? incoming.state : held.state,
    text: incoming.text.length > held.text.length ? incoming.text : held.text,
    error: incoming.error ?? held.error,
  });
}

/** Applies buffered chunks that now touch the text; the gap stays open while any remain beyond it. */
function drainAhead(message: ChatMessage): ChatMessage {
  if (message.ahead.length === 0) return message.gap ? { ...message, gap: false } : message;
  let text = message.text;
  const rest = [...message.ahead].sort((a, b) => a.offset - b.offset);
  const left: { offset: number; text: string }[] = [];
  for (const chunk of rest) {
    if (chunk.offset > text.length) {
      left.push(chunk);
      continue;
    }
    const end = chunk.offset + chunk.text.length;
    if (end > text.length) text += chunk.text.slice(text.length - chunk.offset);
  }
  const still = left.filter((c) => c.offset + c.text.length > text.length);
  return { ...message, text, ahead: still, gap: still.length > 0 };
}

/** The optimistic bubble a server user message answers: by clientMessageId, else the one in flight with that text. */
function findLocalFor(d: Draft, message: ChatMessage, clientMessageId: string | null): ChatMessage | undefined {
  if (message.role !== "user") return undefined;
  if (clientMessageId) {
    const byId = d.messages.get(`local:${clientMessageId}`);
    if (byId) return byId;
  }
  for (const held of d.messages.values()) {
    if (held.local?.status === "sending" && held.text.trim() === message.text.trim()) return held;
  }
  return undefined;
}

/** Inserts or merges a message coming from the server (snapshot, event or POST answer). */
function upsertServerMessage(d: Draft, incoming: ChatMessage) {
  const held = d.messages.get(incoming.id);
  if (held) {
    put(d, mergeServerMessage(held, incoming), held);
    return;
  }
  const local = findLocalFor(d, incoming, incoming.clientMessageId);
  if (local) {
    drop(d, local.id);
    put(d, { ...incoming, clientMessageId: local.clientMessageId });
    return;
  }
  put(d, incoming);
}

/** A message first heard of through a chunk or tool event: kept where its turn puts it until details arrive. */
function placeholder(d: Draft, e: EventEnvelope, id: string): ChatMessage {
  const held = d.messages.get(id);
  if (held) return editable(d, id)!;
  const message: ChatMessage = {
    id,
    clientMessageId: null,
    turnId: e.turn_id,
    runId: e.run_id,
    role: "assistant",
    state: "pending",
    text: "",
    tools: [],
    error: null,
    createdAt: e.created_at,
    completedAt: null,
    gap: false,
    ahead: [],
    origin: e.seq,
    placeholder: true,
    local: null,
  };
  put(d, message);
  return message;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

const runRank: Record<RunState, number> = { queued: 0, running: 1, succeeded: 2, failed: 2, canceled: 2 };

function runFor(d: Draft, id: string, turnId: string | null): RunView {
  const held = d.runs.get(id);
  if (held) return held;
  return {
    id,
    turnId,
    state: "queued",
    error: null,
    activeNodeId: null,
    retryOfId: null,
    indicator: idleIndicator,
  };
}

function setRun(d: Draft, run: RunView) {
  d.runs.set(run.id, run);
}

function indicate(d: Draft, run: RunView, input: IndicatorInput): RunView {
  const indicator = nextIndicator(run.indicator, input, d.base.thresholds);
  return indicator === run.indicator ? run : { ...run, indicator };
}

const inputForState: Record<RunState, "queued" | "started" | "succeeded" | "failed" | "canceled"> = {
  queued: "queued",
  running: "started",
  succeeded: "succeeded",
  failed: "failed",
  canceled: "canceled",
};

/** Merges a run summary; states only move forward, so a late `running` never revives a finished run. */
function upsertRun(d: Draft, summary: Partial<RunSummary> & { id: string }, now: number) {
  const held = runFor(d, summary.id, summary.turnId ?? null);
  const state = summary.state && runRank[summary.state] > runRank[held.state] ? summary.state : held.state;
  let run: RunView = {
    ...held,
    turnId: summary.turnId ?? held.turnId,
    state,
    error: summary.error ?? held.error,
    activeNodeId: summary.activeNodeId ?? held.activeNodeId,
    retryOfId: summary.retryOfId ?? held.retryOfId,
  };
  if (summary.state && state === summary.state) run = indicate(d, run, { type: inputForState[state], at: now });
  setRun(d, run);
  if (runRank[state] === 2) {
    settleRunMessages(d, run);
    settleRunTools(d, run);
  }
}

/**
 * Nobody can answer for a run that ended: its cards stop asking. A stopped or failed run ends the calls it left
 * unfinished as the server closes them (no tool_result says so): cut short by the Stop, or failed with the run.
 */
function settleRunTools(d: Draft, run: RunView) {
  const cut = run.state !== "succeeded";
  for (const message of d.messages.values()) {
    if (message.runId !== run.id || !message.tools.some((t) => t.approval || (cut && !isToolDone(t)))) continue;
    const next = editable(d, message.id)!;
    next.tools = next.tools.map((t) => {
      let part = t.approval ? { ...t, decided: { id: t.approval.id, decision: "withdrawn" as const } } : t;
      if (cut && !isToolDone(part)) {
        part =
          run.state === "canceled"
            ? { ...part, state: "error", stopped: true }
            : { ...part, state: "error", error: part.error ?? run.error?.message ?? "The reply failed." };
      }
      return withoutStaleApproval(part);
    });
  }
}

/** A finished run marks its active bubble: errored or canceled if it was still going, with the run's error. */
function settleRunMessages(d: Draft, run: RunView) {
  if (run.state === "succeeded" || !run.activeNodeId) return;
  const message = d.messages.get(run.activeNodeId);
  if (!message) return;
  const state: MessageState = run.state === "failed" ? "errored" : "canceled";
  if (isTerminal(message.state) && message.state !== "completed") return;
  const next = editable(d, message.id)!;
  if (!isTerminal(next.state)) next.state = state;
  if (run.state === "failed") next.error = next.error ?? run.error;
}

function isSuperseded(d: Draft, id: string | null): boolean {
  return id !== null && (d.superseded ?? d.base.superseded).has(id);
}

function supersede(d: Draft, ids: readonly string[]) {
  for (const id of ids) {
    d.superseded ??= new Set(d.base.superseded);
    d.superseded.add(id);
    drop(d, id);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Events

/** The agent message a tool event's card belongs to. */
function toolOwner(e: EventEnvelope): string | null {
  return e.kind === "tool_call" || e.kind === "tool_result" ? e.payload.messageId : null;
}

/** Marks a seq applied; false when it was applied before or is already reflected by a snapshot. */
function admit(d: Draft, seq: number | null): boolean {
  if (seq === null) return true;
  if (seq <= d.floor || d.seen.has(seq)) return false;
  d.seen.add(seq);
  if (seq > d.cursor) d.cursor = seq;
  if (d.seen.size > SEEN_LIMIT) {
    // Raise the floor over the oldest seqs: anything older than them arriving now is too late to matter.
    const sorted = [...d.seen].sort((a, b) => a - b);
    const cut = sorted.length - SEEN_LIMIT / 2;
    d.floor = sorted[cut - 1]!;
    d.seen = new Set(sorted.slice(cut));
  }
  return true;
}

function applyChunk(d: Draft, e: EventOf<"stream_chunk">, now: number) {
  const nodeId = e.node_id;
  if (!nodeId) return;
  const { text } = e;
  const { offset } = e.payload;
  const message = placeholder(d, e, nodeId);
  if (isTerminal(message.state)) return;
  if (message.state === "pending") message.state = "streaming";
  if (!message.runId) message.runId = e.run_id;
  if (offset > message.text.length) {
    if (message.ahead.length < AHEAD_LIMIT) message.ahead = [...message.ahead, { offset, text }];
    message.gap = true;
    d.resync = true;
  } else {
    const overlap = message.text.length - offset;
    const shared = Math.min(overlap, text.length);
    if (shared > 0 && text.slice(0, shared) !== message.text.slice(offset, offset + shared)) {
      // The same offset holds different text: trust the newer delta and have the page confirm.
      message.text = message.text.slice(0, offset) + text;
      d.resync = true;
    } else if (offset + text.length > message.text.length) {
      message.text += text.slice(overlap);
    }
    if (message.ahead.length > 0) Object.assign(message, drainAhead(message));
  }
  if (e.run_id) touchRun(d, e, nodeId, now, "progress");
}

/**
 * A reply streamed before its node was written, and the node never was (the send was queued after all): what was
 * shown of it goes, and its run, known so far only from that text, waits again.
 */
function withdraw(d: Draft, e: EventOf<"stream_withdrawn">, now: number) {
  const message = e.node_id ? d.messages.get(e.node_id) : undefined;
  if (message?.placeholder) drop(d, message.id);
  const run = e.run_id ? d.runs.get(e.run_id) : undefined;
  if (run?.state === "running" && run.activeNodeId === e.node_id) {
    setRun(d, indicate(d, { ...run, state: "queued", activeNodeId: null }, { type: "queued", at: now }));
  }
}

/** A sign of life from a run: progress (text, tools) or a heartbeat; it proves the run is running. */
function touchRun(d: Draft, e: EventEnvelope, nodeId: string | null, now: number, kind: "progress" | "heartbeat") {
  if (!e.run_id) return;
  let run = runFor(d, e.run_id, e.turn_id);
  if (runRank[run.state] === 2) return;
  if (nodeId && run.activeNodeId !== nodeId) run = { ...run, activeNodeId: nodeId };
  if (run.state === "queued") run = { ...run, state: "running" };
  setRun(d, indicate(d, run, { type: kind, at: now }));
}

/** Applies one event, narrowed by its kind. A kind this build does not know (a newer server's) is ignored. */
function applyOne(d: Draft, e: EventEnvelope, now: number) {
  if (e.conversation_id !== d.base.conversationId) return;
  if (!admit(d, e.seq)) {
    d.dropped++;
    return;
  }
  d.counts[e.kind] = (d.counts[e.kind] ?? 0) + 1;
  if (e.kind !== "run_queued" && (isSuperseded(d, e.node_id) || isSuperseded(d, toolOwner(e)))) return;
  switch (e.kind) {
    case "message_created": {
      const { message, clientMessageId } = e.payload;
      if (message.role === "assistant" && e.run_id) touchRun(d, e, message.id, now, "progress");
      upsertServerMessage(d, fromTranscript(message, e.seq, clientMessageId ?? null));
      return;
    }
    case "stream_withdrawn":
      withdraw(d, e, now);
      return;
    case "stream_chunk":
      applyChunk(d, e, now);
      return;
    case "stream_complete": {
      if (!e.node_id) return;
      const held = placeholder(d, e, e.node_id);
      // A new object, put back in order: the server's message makes a placeholder an ordinary message.
      const message = e.payload.message
        ? mergeServerMessage(held, fromTranscript(e.payload.message, e.seq, null))
        : { ...held };
      Object.assign(message, { text: e.text, gap: false, ahead: [] });
      if (!isTerminal(message.state)) message.state = completedState(e.payload.state);
      const error = e.payload.error ?? null;
      if (error && message.state === "errored") message.error = message.error ?? error;
      message.completedAt = message.completedAt ?? e.created_at;
      put(d, message, held);
      if (e.run_id) touchRun(d, e, null, now, "progress");
      return;
    }
    case "tool_call":
    case "tool_result": {
      const message = placeholder(d, e, e.payload.messageId);
      const tools = [...message.tools];
      const known = tools.some((t) => t.id === e.payload.part.id);
      upsertTool(tools, e.payload.part, null);
      message.tools = tools;
      if (message.state === "pending") message.state = "streaming";
      // A result or a new call means the run moved on; an update of a call it waits on does not.
      if (e.run_id) touchRun(d, e, null, now, e.kind === "tool_result" || !known ? "progress" : "heartbeat");
      return;
    }
    case "approval_requested": {
      if (!e.node_id) return;
      const { approval } = e.payload;
      const part = updateTool(d, e.node_id, (t) => withoutStaleApproval({ ...t, approval, approvalSeq: e.seq }));
      // The card is not here yet (its message lies beyond what we hold): the page will carry the request.
      if (!part) d.resync = true;
      else if (part.approval) waitRun(d, e.run_id, e.turn_id, { for: "approval" }, now);
      return;
    }
    case "approval_resolved":
      if (e.node_id) resolve(d, e.node_id, e.payload.approvalId, e.payload.decision, now);
      return;
    case "directive_output": {
      if (!e.node_id) return;
      const { directiveId, stream, seq } = e.payload;
      updateOutput(d, e.node_id, directiveId, (view) => appendOutput(view, { stream, seq, text: e.text }));
      noteDirective(d, e, now);
      return;
    }
    case "directive_state": {
      if (!e.node_id) return;
      updateOutput(d, e.node_id, e.payload.directiveId, (view) => setDirectiveState(view, e.payload));
      if (!finalDirectiveStates.has(e.payload.state)) noteDirective(d, e, now);
      return;
    }
    case "hook_warning":
      if (e.run_id) addHookWarning(d, { ...e.payload, runId: e.run_id, nodeId: e.node_id });
      return;
    case "run_waiting": {
      const { kind, waitKey } = e.payload.step;
      waitRun(d, e.run_id, e.turn_id, waitingFor(d, e.node_id, kind, waitKey), now);
      return;
    }
    case "step_started":
      if (e.payload.state === "running") resume(d, e.run_id, now);
      return;
    case "step_finished":
      if (e.payload.kind.startsWith("await_")) resume(d, e.run_id, now);
      return;
    case "run_heartbeat":
      d.lastHeartbeatAt = now;
      if (e.run_id) touchRun(d, e, null, now, "heartbeat");
      return;
    case "run_queued":
    case "run_started":
    case "run_succeeded":
    case "run_failed":
    case "run_canceled": {
      if (e.kind === "run_queued" && e.payload.supersededNodeIds) supersede(d, e.payload.supersededNodeIds);
      upsertRun(d, { ...e.payload.run, state: runStateFor[e.kind] }, now);
      return;
    }
    default:
      // typing_*, conversation_updated (the session refetches the title), and kinds from a newer server.
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Approvals, directives and waits: all keyed by the tool call's task node (the event's node_id)

/** The tool part with this id, searched from the newest message (the one waiting is almost always recent). */
function findTool(d: Draft, nodeId: string): { message: ChatMessage; part: ToolPart } | null {
  const order = d.order ?? d.base.order;
  for (let i = order.length - 1; i >= 0; i--) {
    const message = d.messages.get(order[i]!)!;
    const part = message.tools.find((t) => t.id === nodeId);
    if (part) return { message, part };
  }
  return null;
}

function updateTool(d: Draft, nodeId: string, update: (part: ToolPart) => ToolPart): ToolPart | null {
  const found = findTool(d, nodeId);
  if (!found) return null;
  const message = editable(d, found.message.id)!;
  const next = update(found.part);
  message.tools = message.tools.map((t) => (t.id === nodeId ? next : t));
  return next;
}

function resolve(d: Draft, nodeId: string, approvalId: string, decision: ApprovalDecision, now: number) {
  const found = findTool(d, nodeId);
  if (!found) return;
  updateTool(d, nodeId, (t) => withoutStaleApproval({ ...t, decided: { id: approvalId, decision } }));
  const runId = found.message.runId;
  const run = runId ? d.runs.get(runId) : undefined;
  if (run?.indicator.waiting?.for !== "approval") return;
  // Approved: the command runs now; a rejected one, or a tool approval, hands back to the run.
  const waiting: Waiting =
    decision === "approved" && found.part.directive
      ? { for: "directive", territory: found.part.directive.territory }
      : { for: "other" };
  waitRun(d, run.id, run.turnId, waiting, now);
}

function updateOutput(d: Draft, nodeId: string, directiveId: string, update: (view: DirectiveView) => DirectiveView) {
  const outputs = d.outputs ?? d.base.outputs;
  const held = outputs.get(nodeId);
  // A call whose directive ran again starts a fresh pane.
  const view = held?.directiveId === directiveId ? held : emptyDirectiveView(directiveId);
  const next = update(view);
  if (next === held) return;
  d.outputs ??= new Map(d.base.outputs);
  d.outputs.set(nodeId, next);
}

/** A warning once per step and text: the live event and a page that rebuilt it are the same warning. */
function addHookWarning(d: Draft, warning: HookWarning) {
  const held = (d.hookWarnings ?? d.base.hookWarnings).get(warning.runId) ?? [];
  if (held.some((w) => w.stepId === warning.stepId && w.message === warning.message)) return;
  d.hookWarnings ??= new Map(d.base.hookWarnings);
  d.hookWarnings.set(warning.runId, [...held, warning]);
}

/** What a run waits for: a person when the step or the card asks for one, else the card's directive. */
function waitingFor(d: Draft, nodeId: string | null, kind: StepKind, waitKey: string | null): Waiting {
  let part = nodeId ? findTool(d, nodeId)?.part : undefined;
  if (!part && waitKey?.startsWith("directive:")) {
    const directiveId = waitKey.slice("directive:".length);
    for (const [id, view] of (d.outputs ?? d.base.outputs).entries()) {
      if (view.directiveId === directiveId) part = findTool(d, id)?.part;
    }
  }
  if (kind === "await_approval" || part?.approval) return { for: "approval" };
  if (kind === "await_directive") return { for: "directive", territory: part?.directive?.territory ?? null };
  return { for: "other" };
}

/** Output or a state change of a call's directive: its run is waiting on it, even if we missed run_waiting. */
function noteDirective(d: Draft, e: EventEnvelope, now: number) {
  if (!e.run_id || !e.node_id) return;
  const run = d.runs.get(e.run_id);
  const part = findTool(d, e.node_id)?.part;
  if (!run || run.indicator.waiting || !part || isToolDone(part)) return;
  waitRun(d, e.run_id, e.turn_id, waitingFor(d, e.node_id, "await_directive", null), now);
}

function waitRun(d: Draft, runId: string | null, turnId: string | null, waiting: Waiting, now: number) {
  if (!runId) return;
  let run = runFor(d, runId, turnId);
  if (runRank[run.state] === 2) return;
  if (run.state === "queued") run = { ...run, state: "running" };
  setRun(d, indicate(d, run, { type: "waiting", at: now, waiting }));
}

function resume(d: Draft, runId: string | null, now: number) {
  const run = runId ? d.runs.get(runId) : undefined;
  if (run?.indicator.waiting) setRun(d, indicate(d, run, { type: "resumed", at: now }));
}

/** After a page: a run whose card still asks for approval or runs a directive waits (its run_waiting is older). */
function waitingFromParts(d: Draft, runId: string): Waiting | null {
  let waiting: Waiting | null = null;
  for (const message of d.messages.values()) {
    if (message.runId !== runId) continue;
    for (const part of message.tools) {
      if (isToolDone(part)) continue;
      if (part.approval) return { for: "approval" };
      if (part.directive) waiting = { for: "directive", territory: part.directive.territory };
    }
  }
  return waiting;
}

/** stream_complete's `payload.state`: completed, or the node's end state when its run ended around it. */
function completedState(state: PayloadOf<"stream_complete">["state"]): MessageState {
  if (state === "errored") return "errored";
  if (state === "stopped") return "canceled";
  return "completed";
}

/** The state each run event moves its run to. */
export const runStateFor = {
  run_queued: "queued",
  run_started: "running",
  run_succeeded: "succeeded",
  run_failed: "failed",
  run_canceled: "canceled",
} as const;

/** Applies a batch of envelopes (one render's worth). `now` is the client clock, for the stuck timer. */
export function applyEvents(state: ChatState, events: readonly EventEnvelope[], now: number): ChatState {
  if (events.length === 0) return state;
  const d = draft(state);
  for (const e of events) applyOne(d, e, now);
  return finish(d);
}

export function applyEvent(state: ChatState, event: EventEnvelope, now: number): ChatState {
  return applyEvents(state, [event], now);
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots (GET /messages), runs (GET /conversations/:id, POST answers), optimistic sends

/**
 * Merges a messages page. Events at or below its eventCursor are reflected in it, so they are dropped from now
 * on; messages we learned of at or below that cursor, inside the page's range, but missing from the page were
 * removed on the server (e.g. a failed reply replaced by its retry) and go.
 */
export function applySnapshot(
  state: ChatState,
  page: MessagesPage,
  options: { runs?: readonly RunSummary[]; now?: number; older?: boolean } = {},
): ChatState {
  const d = draft(state);
  const now = options.now ?? 0;
  if (!options.older && page.eventCursor > d.floor) {
    d.floor = page.eventCursor;
    for (const seq of d.seen) if (seq <= d.floor) d.seen.delete(seq);
    if (d.cursor < d.floor) d.cursor = d.floor;
  }
  const incoming = page.messages.map((m) => fromTranscript(m, page.eventCursor, null));
  if (!options.older && incoming.length > 0) {
    const ids = new Set(incoming.map((m) => m.id));
    const oldest = incoming.reduce((a, b) => (compareMessages(a, b) <= 0 ? a : b));
    const inRange = (m: ChatMessage) => page.olderCursor === null || compareMessages(oldest, m) <= 0;
    for (const held of [...d.messages.values()]) {
      if (held.local || ids.has(held.id)) continue;
      if (held.origin !== null && held.origin <= page.eventCursor && inRange(held)) drop(d, held.id);
    }
  }
  for (const message of incoming) upsertServerMessage(d, message);
  for (const warning of page.hookWarnings ?? []) addHookWarning(d, warning);
  for (const run of options.runs ?? []) upsertRun(d, run, now);
  // An errored or canceled reply means its run ended so (a completed one may be one step of a tool loop).
  for (const message of incoming) {
    const state = message.state === "errored" ? "failed" : message.state === "canceled" ? "canceled" : null;
    if (state && message.runId && message.role === "assistant") {
      upsertRun(d, { id: message.runId, turnId: message.turnId ?? undefined, state, activeNodeId: message.id }, now);
    }
  }
  for (const run of [...d.runs.values()]) {
    if (runRank[run.state] === 2 || run.indicator.waiting) continue;
    const waiting = waitingFromParts(d, run.id);
    if (waiting) setRun(d, indicate(d, run, { type: "waiting", at: now, waiting }));
  }
  // Gaps the page did not fill (it predates the chunks beyond them) ask for another, later resync.
  if (!options.older) d.resync = [...d.messages.values()].some((m) => m.gap);
  const olderCursor = options.older || !state.loaded ? page.olderCursor : state.olderCursor;
  return finish(d, { loaded: true, olderCursor });
}

/** A run summary from the API (conversation detail, POST answers, cancel/retry answers). */
export function applyRun(state: ChatState, run: RunSummary, now: number): ChatState {
  const d = draft(state);
  upsertRun(d, run, now);
  return finish(d);
}

/** The answer to an approval, as the server confirmed it (before or instead of its approval_resolved event). */
export function resolveApproval(
  state: ChatState,
  nodeId: string,
  approvalId: string,
  decision: ApprovalDecision,
  now: number,
): ChatState {
  const d = draft(state);
  resolve(d, nodeId, approvalId, decision, now);
  return finish(d);
}

/** What `GET /api/directives/:id/output` returned for a card opened mid-run. */
export function applyDirectiveOutput(state: ChatState, nodeId: string, output: FetchedOutput): ChatState {
  const d = draft(state);
  updateOutput(d, nodeId, output.id, (view) => mergeFetchedOutput(view, output));
  return finish(d);
}

/** Re-evaluates the stuck timers; returns the same state object when nothing changed. */
export function tick(state: ChatState, now: number): ChatState {
  let runs: Map<string, RunView> | null = null;
  for (const run of state.runs.values()) {
    const indicator = nextIndicator(run.indicator, { type: "tick", at: now }, state.thresholds);
    if (indicator === run.indicator) continue;
    runs ??= new Map(state.runs);
    runs.set(run.id, { ...run, indicator });
  }
  return runs ? { ...state, runs } : state;
}

/** After a reconnect: the silence while disconnected is not the run's fault. */
export function touchActiveRuns(state: ChatState, now: number): ChatState {
  let runs: Map<string, RunView> | null = null;
  for (const run of state.runs.values()) {
    if (run.indicator.phase !== "streaming" || run.indicator.stuck) continue;
    runs ??= new Map(state.runs);
    runs.set(run.id, {
      ...run,
      indicator: nextIndicator(run.indicator, { type: "heartbeat", at: now }, state.thresholds),
    });
  }
  return runs ? { ...state, runs } : state;
}

export function addLocalMessage(state: ChatState, input: { clientMessageId: string; text: string; now: number }) {
  const d = draft(state);
  const id = `local:${input.clientMessageId}`;
  if (d.messages.has(id)) return state;
  put(d, {
    id,
    clientMessageId: input.clientMessageId,
    turnId: null,
    runId: null,
    role: "user",
    state: "completed",
    text: input.text,
    tools: [],
    error: null,
    createdAt: new Date(input.now).toISOString(),
    completedAt: null,
    gap: false,
    ahead: [],
    origin: null,
    placeholder: false,
    local: { order: d.nextLocalOrder++, status: "queued", error: null },
  });
  return finish(d);
}

export function setLocalStatus(
  state: ChatState,
  clientMessageId: string,
  status: LocalStatus["status"],
  error: string | null = null,
): ChatState {
  const id = `local:${clientMessageId}`;
  const held = state.messages.get(id);
  if (!held?.local) return state;
  const d = draft(state);
  // Sent again after failing: it goes after everything sent meanwhile, where the server will put it.
  const order = status !== "failed" && held.local.status === "failed" ? d.nextLocalOrder++ : held.local.order;
  put(d, { ...held, local: { order, status, error } }, held);
  return finish(d);
}

/** The POST answer: the optimistic bubble becomes the server's message (unless the stream brought it first). */
export function acknowledgeLocal(
  state: ChatState,
  clientMessageId: string,
  result: PostMessageResult,
  now: number,
): ChatState {
  const d = draft(state);
  const localId = `local:${clientMessageId}`;
  const local = d.messages.get(localId);
  if (local) drop(d, localId);
  upsertServerMessage(d, { ...fromTranscript(result.message, null, clientMessageId) });
  upsertRun(d, result.run, now);
  return finish(d);
}

export function removeLocal(state: ChatState, clientMessageId: string): ChatState {
  const id = `local:${clientMessageId}`;
  if (!state.messages.has(id)) return state;
  const d = draft(state);
  drop(d, id);
  return finish(d);
}

// ---------------------------------------------------------------------------------------------------------------
// Selectors

export function orderedMessages(state: ChatState): ChatMessage[] {
  return state.order.map((id) => state.messages.get(id)!);
}

/** Replies replaced by a retry (their run is some other run's retryOfId) are hidden once the retry exists. */
export function supersededRuns(state: ChatState): Set<string> {
  const ids = new Set<string>();
  for (const run of state.runs.values()) if (run.retryOfId) ids.add(run.retryOfId);
  return ids;
}

/**
 * Runs we think are unfinished but the server's conversation detail does not name as active: after a resync
 * their events may lie below the page's cursor, so ask for each (GET /api/runs/:id) to settle them.
 */
export function runsToSettle(state: ChatState, activeRunId: string | null): string[] {
  const ids: string[] = [];
  for (const run of state.runs.values()) {
    if (run.id !== activeRunId && runRank[run.state] < 2) ids.push(run.id);
  }
  return ids;
}

/**
 * Runs of turns whose reply we cannot explain: a user message with no visible reply and no run known for its
 * turn (e.g. a run that failed before writing anything). Ask for them (GET /api/runs/:id) to show the outcome.
 */
export function unexplainedRuns(state: ChatState, limit = 5): string[] {
  const turnsWithReply = new Set<string>();
  for (const message of state.messages.values()) {
    if (message.role === "assistant" && message.turnId) turnsWithReply.add(message.turnId);
  }
  for (const run of state.runs.values()) if (run.turnId) turnsWithReply.add(run.turnId);
  const ids: string[] = [];
  for (let i = state.order.length - 1; i >= 0 && ids.length < limit; i--) {
    const message = state.messages.get(state.order[i]!)!;
    if (message.role !== "user" || message.local || !message.runId || !message.turnId) continue;
    if (!turnsWithReply.has(message.turnId)) ids.push(message.runId);
  }
  return ids;
}

/** The run in progress: running first, else the oldest queued (runs are UUIDv7, so ids order them). */
export function activeRun(state: ChatState): RunView | null {
  let queued: RunView | null = null;
  for (const run of state.runs.values()) {
    if (run.state === "running") return run;
    if (run.state === "queued" && (!queued || run.id < queued.id)) queued = run;
  }
  return queued;
}

export function isStreamingMessage(state: ChatState, message: ChatMessage): boolean {
  if (!message.runId || message.role !== "assistant") return false;
  const run = state.runs.get(message.runId);
  return !!run && run.activeNodeId === message.id && run.indicator.phase === "streaming" && !run.indicator.waiting;
}
