import type { ApprovalAnswer, EventEnvelope, PostMessageResult, RunSummary } from "@cybros/protocol";
import { ApiError, errorMessage } from "../lib/api";
import { type ChatApi, chatApi } from "./api";
import { DEFAULT_THRESHOLDS, type StuckThresholds } from "./indicator";
import { type ChatLogger, createChatLogger } from "./log";
import {
  acknowledgeLocal,
  activeRun,
  addLocalMessage,
  applyDirectiveOutput,
  applyEvents,
  applyRun,
  applySnapshot,
  type ChatState,
  emptyChatState,
  removeLocal,
  resolveApproval,
  runsToSettle,
  setLocalStatus,
  tick,
  touchActiveRuns,
  unexplainedRuns,
} from "./reconciler";
import type { ToolHost } from "./toolHost";
import {
  browserNetwork,
  ConversationTransport,
  type NetworkMonitor,
  type TransportOptions,
  type TransportStatus,
} from "./transport";

/**
 * One open conversation: loads the messages page, keeps the event stream, feeds both to the reconciler (one batch
 * per animation frame), resyncs when the reconciler finds a gap, sends messages through an ordered outbox, and
 * runs Stop/Retry. Framework-free; `useChatSession` binds it to React.
 */

export interface ChatView {
  chat: ChatState;
  connection: TransportStatus | null;
  loading: boolean;
  loadError: string | null;
  loadingOlder: boolean;
  /** Runs with a Stop or Retry request in flight. */
  pending: ReadonlySet<string>;
}

export type TransportLike = Pick<
  ConversationTransport,
  "start" | "stop" | "advanceCursor" | "inject" | "dropConnection" | "reconnectNow" | "snapshot"
>;

export interface ChatSessionOptions {
  conversationId: string;
  api?: ChatApi;
  createTransport?: (options: TransportOptions) => TransportLike;
  network?: NetworkMonitor;
  now?: () => number;
  thresholds?: StuckThresholds;
  pageSize?: number;
  /** Runs `flush` soon, once (default: the next animation frame, or 100 ms in a hidden tab). */
  scheduleFlush?: (flush: () => void) => void;
  onConversationUpdated?: () => void;
  /** A workspace_set call finished: the conversation's workspace (its header) may have changed. */
  onWorkspaceChanged?: () => void;
  /**
   * Another call that ran on a machine (a directive) finished: the first one of a conversation without a workspace
   * made it a scratch folder there, which its header should now show.
   */
  onMachineUsed?: () => void;
  /** A message was accepted or a run changed state: lists ordered by activity may have moved. */
  onActivity?: () => void;
  /**
   * The conversation was just created by its first message: shown at once (no loading state) while the page
   * loads behind it.
   */
  started?: PostMessageResult & { clientMessageId: string };
  log?: ChatLogger;
}

const SEND_ATTEMPTS = 5;

/** An id for a message the client sends, so a resend is recognized as the same message. */
export function newClientId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** At most this many renders a second while text streams: smooth to read, and half the work of every frame. */
const FLUSH_INTERVAL_MS = 33;
let lastFlushAt = 0;

function defaultSchedule(flush: () => void) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    lastFlushAt = performance.now();
    flush();
  };
  const wait = Math.max(0, lastFlushAt + FLUSH_INTERVAL_MS - performance.now());
  setTimeout(() => {
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    // A hidden tab gets no frames: apply anyway, less often.
    setTimeout(run, 250);
  }, wait);
}

export class ChatSession implements ToolHost {
  readonly conversationId: string;
  private readonly api: ChatApi;
  private readonly now: () => number;
  private readonly log: ChatLogger;
  private readonly network: NetworkMonitor;
  private readonly options: ChatSessionOptions;
  private view: ChatView;
  private readonly listeners = new Set<() => void>();
  private transport: TransportLike | null = null;
  private queue: EventEnvelope[] = [];
  private flushScheduled = false;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private disposed = false;
  private resyncTimer: ReturnType<typeof setTimeout> | null = null;
  private resyncing = false;
  private resyncAgain = false;
  private resyncFailures = 0;
  private lastResyncAt = 0;
  private outbox: { clientMessageId: string; content: string }[] = [];
  private pumping = false;
  private readonly outputsLoaded = new Set<string>();

  constructor(options: ChatSessionOptions) {
    this.options = options;
    this.conversationId = options.conversationId;
    this.api = options.api ?? chatApi;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? createChatLogger("chat");
    this.network = options.network ?? browserNetwork;
    const empty = emptyChatState(options.conversationId, options.thresholds ?? DEFAULT_THRESHOLDS);
    const { started } = options;
    this.view = {
      chat: started ? acknowledgeLocal(empty, started.clientMessageId, started, this.now()) : empty,
      connection: null,
      loading: !started,
      loadError: null,
      loadingOlder: false,
      pending: new Set(),
    };
  }

  // --- React binding -------------------------------------------------------------------------------------------

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.view;

  private set(patch: Partial<ChatView>) {
    this.view = { ...this.view, ...patch };
    for (const listener of this.listeners) listener();
  }

  private setChat(chat: ChatState) {
    if (chat !== this.view.chat) this.set({ chat });
  }

  // --- Lifecycle -----------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.ticker = setInterval(() => this.onTick(), 1000);
    await this.load();
  }

  /** (Re)loads the latest page; on first success, opens the stream from the page's cursor. */
  async load(): Promise<void> {
    // A just-started conversation stays on screen while its page loads; a retry after an error shows loading.
    this.set({ loading: !this.options.started || this.view.loadError !== null, loadError: null });
    try {
      await this.resyncNow();
      if (this.disposed) return;
      this.set({ loading: false });
      this.openStream();
    } catch (error) {
      if (this.disposed) return;
      this.set({ loading: false, loadError: errorMessage(error) });
    }
  }

  dispose() {
    this.disposed = true;
    this.transport?.stop();
    this.transport = null;
    if (this.ticker) clearInterval(this.ticker);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.listeners.clear();
  }

  private openStream() {
    if (this.transport || this.disposed) return;
    const create = this.options.createTransport ?? ((o: TransportOptions) => new ConversationTransport(o));
    let lastState: TransportStatus["state"] | null = null;
    this.transport = create({
      conversationId: this.conversationId,
      cursor: this.view.chat.cursor,
      network: this.network,
      onEvents: (events) => this.enqueue(events),
      onStatus: (status) => {
        const changed = status.state !== lastState;
        const reopened = changed && status.state === "open";
        lastState = status.state;
        this.view = { ...this.view, connection: status };
        // Silence while disconnected is not the run's fault.
        if (reopened) this.view = { ...this.view, chat: touchActiveRuns(this.view.chat, this.now()) };
        if (changed) this.set({});
      },
    });
    this.transport.start();
  }

  // --- Events --------------------------------------------------------------------------------------------------

  private enqueue(events: EventEnvelope[]) {
    this.queue.push(...events);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    (this.options.scheduleFlush ?? defaultSchedule)(() => this.flush());
  }

  /** Applies everything queued since the last frame in one batch: one render per frame, however fast chunks come. */
  flush() {
    this.flushScheduled = false;
    if (this.disposed || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const before = this.view.chat;
    const chat = applyEvents(before, batch, this.now());
    if (batch.some((e) => e.kind === "conversation_updated")) this.options.onConversationUpdated?.();
    const results = batch.filter((e) => e.kind === "tool_result").map((e) => e.payload.part);
    if (results.some((part) => part.name === "workspace_set")) this.options.onWorkspaceChanged?.();
    else if (results.some((part) => part.directive !== undefined)) this.options.onMachineUsed?.();
    if (batch.some((e) => e.kind.startsWith("run_") && e.kind !== "run_heartbeat")) this.options.onActivity?.();
    this.set({ chat, connection: this.transport?.snapshot ?? this.view.connection });
    if (chat.resync && !before.resync) this.log.warn("gap", "Stream gap found; refetching the messages page", {});
    if (chat.resync) this.requestResync();
  }

  private onTick() {
    if (this.disposed || this.view.connection?.state !== "open") return;
    this.setChat(tick(this.view.chat, this.now()));
  }

  // --- Resync --------------------------------------------------------------------------------------------------

  /** Asks for the messages page again, at most once a second, backing off while a gap stays open. */
  requestResync() {
    if (this.disposed) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    if (this.resyncTimer) return;
    const gap = Math.min(10_000, 1000 * 2 ** Math.min(this.resyncFailures, 4));
    const wait = Math.max(0, this.lastResyncAt + gap - this.now());
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      void this.resyncNow().catch((error) => {
        this.log.warn("resync", "Resync failed", { error: errorMessage(error) });
        this.requestResync();
      });
    }, wait);
  }

  private async resyncNow(): Promise<void> {
    this.resyncing = true;
    this.lastResyncAt = this.now();
    try {
      const [page, detail] = await Promise.all([
        this.api.messages(this.conversationId, { limit: this.options.pageSize ?? 50 }),
        this.api.detail(this.conversationId),
      ]);
      if (this.disposed) return;
      const runs: RunSummary[] = detail.activeRun ? [detail.activeRun] : [];
      let chat = applySnapshot(this.view.chat, page, { runs, now: this.now() });
      const settle = [...runsToSettle(chat, detail.activeRun?.id ?? null), ...unexplainedRuns(chat)].slice(0, 10);
      if (settle.length > 0) {
        const settled = await Promise.all(
          settle.map((id) =>
            this.api.run(id).then(
              (d) => d.run,
              () => null,
            ),
          ),
        );
        if (this.disposed) return;
        // Events applied while we waited: merge the page into the latest state again (it is idempotent).
        chat = applySnapshot(this.view.chat, page, { runs, now: this.now() });
        for (const run of settled) if (run) chat = applyRun(chat, run, this.now());
      }
      this.resyncFailures = chat.resync ? this.resyncFailures + 1 : 0;
      this.setChat(chat);
      this.transport?.advanceCursor(page.eventCursor);
    } catch (error) {
      this.resyncFailures++;
      throw error;
    } finally {
      this.resyncing = false;
      if (!this.disposed && (this.resyncAgain || this.view.chat.resync)) {
        this.resyncAgain = false;
        this.requestResync();
      }
    }
  }

  async loadOlder(): Promise<void> {
    const before = this.view.chat.olderCursor;
    if (!before || this.view.loadingOlder) return;
    this.set({ loadingOlder: true });
    try {
      const page = await this.api.messages(this.conversationId, { before, limit: this.options.pageSize ?? 50 });
      if (this.disposed) return;
      this.set({ chat: applySnapshot(this.view.chat, page, { older: true, now: this.now() }), loadingOlder: false });
    } catch (error) {
      this.set({ loadingOlder: false });
      throw error;
    }
  }

  // --- Sending -------------------------------------------------------------------------------------------------

  /** Shows the message at once and sends it after every earlier one, so the server sees them in order. */
  send(text: string): string | null {
    const content = text.trim();
    if (!content) return null;
    const clientMessageId = newClientId();
    this.setChat(addLocalMessage(this.view.chat, { clientMessageId, text: content, now: this.now() }));
    this.outbox.push({ clientMessageId, content });
    void this.pump();
    return clientMessageId;
  }

  /** Sends a failed message again (same clientMessageId, so the server never makes two). */
  resend(clientMessageId: string) {
    const message = this.view.chat.messages.get(`local:${clientMessageId}`);
    if (message?.local?.status !== "failed") return;
    this.setChat(setLocalStatus(this.view.chat, clientMessageId, "queued"));
    this.outbox.push({ clientMessageId, content: message.text });
    void this.pump();
  }

  discard(clientMessageId: string) {
    this.outbox = this.outbox.filter((item) => item.clientMessageId !== clientMessageId);
    this.setChat(removeLocal(this.view.chat, clientMessageId));
  }

  private async pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.outbox.length > 0 && !this.disposed) {
        await this.post(this.outbox[0]!);
        this.outbox.shift();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async post(item: { clientMessageId: string; content: string }) {
    const { clientMessageId, content } = item;
    for (let attempt = 1; !this.disposed; attempt++) {
      this.setChat(setLocalStatus(this.view.chat, clientMessageId, "sending"));
      try {
        const result = await this.api.postMessage(this.conversationId, { content, clientMessageId });
        if (this.disposed) return;
        this.setChat(acknowledgeLocal(this.view.chat, clientMessageId, result, this.now()));
        this.options.onActivity?.();
        return;
      } catch (error) {
        if (this.disposed) return;
        const retryable =
          !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500;
        if (!retryable || attempt >= SEND_ATTEMPTS) {
          this.log.warn("send", "Message not sent", { error: errorMessage(error), attempt });
          this.setChat(setLocalStatus(this.view.chat, clientMessageId, "failed", errorMessage(error)));
          return;
        }
        await this.waitBeforeResend(attempt);
      }
    }
  }

  private async waitBeforeResend(attempt: number) {
    if (!this.network.online()) {
      await new Promise<void>((resolve) => {
        const unsubscribe = this.network.subscribe((online) => {
          if (!online) return;
          unsubscribe();
          resolve();
        });
      });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(8000, 500 * 2 ** (attempt - 1))));
  }

  // --- Runs ----------------------------------------------------------------------------------------------------

  /** Stops a run (default: the one in progress). Resolves once the server confirmed it. */
  async stop(runId?: string): Promise<void> {
    const id = runId ?? activeRun(this.view.chat)?.id;
    if (!id) return;
    await this.runAction(id, () => this.api.cancel(id));
  }

  /** A new attempt at a failed (or finished) run's turn; it replaces the old reply. */
  async retry(runId: string): Promise<void> {
    await this.runAction(runId, () => this.api.retry(runId));
  }

  /**
   * Stops a run, then retries it, as one action: the reply shows as busy from the click until the retry is queued,
   * never as a plain stopped reply in between. A run that ended meanwhile (409 on stop) is still retried.
   */
  async restart(runId: string): Promise<void> {
    await this.runAction(runId, async () => {
      await this.api.cancel(runId).catch((error: unknown) => {
        if (!(error instanceof ApiError && error.status === 409)) throw error;
      });
      return this.api.retry(runId);
    });
  }

  private async runAction(runId: string, call: () => Promise<RunSummary>) {
    if (this.view.pending.has(runId)) return;
    this.set({ pending: new Set([...this.view.pending, runId]) });
    try {
      const run = await call();
      if (this.disposed) return;
      this.setChat(applyRun(this.view.chat, run, this.now()));
      this.options.onActivity?.();
    } catch (error) {
      // A conflict means our view of the run is stale (it ended meanwhile): look again.
      if (error instanceof ApiError && error.status === 409) this.requestResync();
      throw error;
    } finally {
      const pending = new Set(this.view.pending);
      pending.delete(runId);
      if (!this.disposed) this.set({ pending });
    }
  }

  // --- Tool cards ----------------------------------------------------------------------------------------------

  directiveOutput = (nodeId: string) => this.view.chat.outputs.get(nodeId);

  /** Fetches a directive's output so far, once per directive: its card opened while it runs (a reload mid-run). */
  loadDirectiveOutput(nodeId: string, directiveId: string) {
    if (this.outputsLoaded.has(directiveId) || this.disposed) return;
    this.outputsLoaded.add(directiveId);
    this.api.directiveOutput(directiveId).then(
      (output) => {
        if (!this.disposed) this.setChat(applyDirectiveOutput(this.view.chat, nodeId, output));
      },
      (error: unknown) => {
        // The live events still come; a later mount may try again.
        this.outputsLoaded.delete(directiveId);
        this.log.warn("output", "Could not load a command's output", { error: errorMessage(error) });
      },
    );
  }

  /**
   * Approves or rejects; the card stops asking once the server confirmed (its approval_resolved event says the
   * same). A conflict means it was answered or withdrawn meanwhile: the page is fetched again.
   */
  async answerApproval(nodeId: string, approvalId: string, answer: ApprovalAnswer): Promise<void> {
    try {
      await this.api.answerApproval(approvalId, answer);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) this.requestResync();
      throw error;
    }
    if (this.disposed) return;
    const decision = answer.approved ? "approved" : "rejected";
    this.setChat(resolveApproval(this.view.chat, nodeId, approvalId, decision, this.now()));
  }

  // --- Test hooks ----------------------------------------------------------------------------------------------

  /** Pushes envelopes through the transport's path (duplicates, reordering…), for the e2e matrix. */
  inject(events: EventEnvelope[]) {
    if (this.transport) this.transport.inject(events);
    else this.enqueue(events);
  }

  dropConnection() {
    this.transport?.dropConnection();
  }

  reconnect() {
    this.transport?.reconnectNow();
  }
}
