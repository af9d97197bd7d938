import type { EventEnvelope, EventKind } from "@cybros/protocol";
import { createParser } from "eventsource-parser";
import { type ChatLogger, createChatLogger } from "./log";

/**
 * The conversation event stream, framework-free: SSE over fetch to GET /api/conversations/:id/events, resuming
 * from the cursor (highest seq received) with `?cursor=` and `Last-Event-ID`; reconnects with exponential backoff
 * and jitter; pauses while the browser is offline and reconnects at once when it is back; falls back to slow
 * polling of /events/poll only while SSE keeps failing. It forwards every envelope it gets (the reconciler
 * dedupes), and exposes its status for the debug overlay.
 */

export type ConnectionState = "connecting" | "open" | "reconnecting" | "polling" | "offline" | "closed";

export interface TransportStatus {
  state: ConnectionState;
  cursor: number;
  /** Consecutive failed connection attempts. */
  failures: number;
  received: number;
  counts: Partial<Record<EventKind, number>>;
  lastEventAt: number | null;
  /** Last keep-alive comment or run_heartbeat. */
  lastHeartbeatAt: number | null;
  nextRetryAt: number | null;
  error: string | null;
}

export interface NetworkMonitor {
  online(): boolean;
  subscribe(listener: (online: boolean) => void): () => void;
}

export interface TransportOptions {
  conversationId: string;
  cursor: number;
  onEvents: (events: EventEnvelope[]) => void;
  onStatus?: (status: TransportStatus) => void;
  /** Called on every successful (re)connection, after which the replay arrives. */
  onOpen?: () => void;
  fetch?: typeof fetch;
  baseUrl?: string;
  network?: NetworkMonitor;
  random?: () => number;
  now?: () => number;
  backoff?: { baseMs: number; maxMs: number };
  /** Consecutive SSE failures after which polling starts (SSE keeps being retried, slowly). */
  pollAfterFailures?: number;
  pollIntervalMs?: number;
  sseRetryWhilePollingMs?: number;
  /** No byte for this long (the server sends keep-alive comments) means the connection is dead. */
  idleTimeoutMs?: number;
  /** A connection open this long (or that delivered events) resets the failure count. */
  stableAfterMs?: number;
  log?: ChatLogger;
}

export class FatalStreamError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Exponential backoff with "equal jitter": half fixed, half random, so clients that dropped together spread out. */
export function backoffDelay(failures: number, backoff: { baseMs: number; maxMs: number }, random: () => number) {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export const browserNetwork: NetworkMonitor = {
  online: () => globalThis.navigator?.onLine ?? true,
  subscribe(listener) {
    if (typeof window === "undefined") return () => {};
    const on = () => listener(true);
    const off = () => listener(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  },
};

function isEnvelope(value: unknown): value is EventEnvelope {
  if (!value || typeof value !== "object") return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.kind === "string" &&
    typeof e.conversation_id === "string" &&
    (e.seq === null || typeof e.seq === "number") &&
    !!e.payload &&
    typeof e.payload === "object"
  );
}

export class ConversationTransport {
  private readonly o: Required<Omit<TransportOptions, "onStatus" | "onOpen" | "log">> &
    Pick<TransportOptions, "onStatus" | "onOpen"> & { log: ChatLogger };
  private status: TransportStatus;
  private abort: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribeNetwork: (() => void) | null = null;
  private generation = 0;
  private started = false;
  private polling = false;

  constructor(options: TransportOptions) {
    this.o = {
      fetch: (...args) => globalThis.fetch(...args),
      baseUrl: "",
      network: browserNetwork,
      random: Math.random,
      now: Date.now,
      backoff: { baseMs: 500, maxMs: 15_000 },
      pollAfterFailures: 4,
      pollIntervalMs: 3_000,
      sseRetryWhilePollingMs: 30_000,
      idleTimeoutMs: 45_000,
      stableAfterMs: 5_000,
      log: createChatLogger("chat.transport"),
      ...options,
    };
    this.status = {
      state: "connecting",
      cursor: options.cursor,
      failures: 0,
      received: 0,
      counts: {},
      lastEventAt: null,
      lastHeartbeatAt: null,
      nextRetryAt: null,
      error: null,
    };
  }

  get snapshot(): TransportStatus {
    return this.status;
  }

  get cursor(): number {
    return this.status.cursor;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.unsubscribeNetwork = this.o.network.subscribe((online) => (online ? this.onOnline() : this.onOffline()));
    this.o.log.debug("subscribe", { conversationId: this.o.conversationId, cursor: this.status.cursor });
    if (!this.o.network.online()) this.onOffline();
    else void this.connect();
  }

  stop() {
    this.started = false;
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.clearTimers();
    this.stopPolling();
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = null;
    this.update({ state: "closed", nextRetryAt: null });
  }

  /** Everything up to `cursor` is known from elsewhere (a messages page): resume after it. */
  advanceCursor(cursor: number) {
    if (cursor > this.status.cursor) this.update({ cursor });
  }

  /** Reconnects now (e.g. a user's "Reconnect" click), forgetting the backoff. */
  reconnectNow() {
    if (!this.started) return;
    this.update({ failures: 0 });
    void this.connect();
  }

  /** Test hook: pushes envelopes through the same path as received ones (out of order, duplicated, …). */
  inject(events: EventEnvelope[]) {
    this.deliver(events);
  }

  /** Test hook: drops the live connection as a network failure would. */
  dropConnection() {
    if (this.status.state !== "open") return;
    this.abort?.abort(new Error("dropped by test hook"));
  }

  private update(patch: Partial<TransportStatus>) {
    this.status = { ...this.status, ...patch };
    this.o.onStatus?.(this.status);
  }

  private clearTimers() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.retryTimer = null;
    this.idleTimer = null;
  }

  private url(path: string) {
    const id = encodeURIComponent(this.o.conversationId);
    return `${this.o.baseUrl}/api/conversations/${id}/${path}?cursor=${this.status.cursor}`;
  }

  private deliver(events: EventEnvelope[]) {
    if (events.length === 0) return;
    const counts = { ...this.status.counts };
    let cursor = this.status.cursor;
    let lastHeartbeatAt = this.status.lastHeartbeatAt;
    const now = this.o.now();
    for (const e of events) {
      counts[e.kind] = (counts[e.kind] ?? 0) + 1;
      if (e.seq !== null && e.seq > cursor) cursor = e.seq;
      if (e.kind === "run_heartbeat") lastHeartbeatAt = now;
    }
    this.update({ counts, cursor, lastHeartbeatAt, received: this.status.received + events.length, lastEventAt: now });
    this.o.onEvents(events);
  }

  private async connect() {
    this.clearTimers();
    this.abort?.abort();
    const generation = ++this.generation;
    const abort = new AbortController();
    this.abort = abort;
    const reconnecting = this.status.failures > 0 || this.status.state === "open" || this.status.received > 0;
    if (!this.polling) this.update({ state: reconnecting ? "reconnecting" : "connecting", nextRetryAt: null });
    let openedAt: number | null = null;
    let delivered = 0;
    try {
      const response = await this.o.fetch(this.url("events"), {
        headers: { Accept: "text/event-stream", "Last-Event-ID": String(this.status.cursor) },
        credentials: "same-origin",
        cache: "no-store",
        signal: abort.signal,
      });
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        throw new FatalStreamError(`The event stream answered ${response.status}`, response.status);
      }
      if (!response.ok || !response.body) throw new Error(`The event stream answered ${response.status}`);
      if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
        throw new Error("The event stream is not text/event-stream");
      }
      openedAt = this.o.now();
      this.stopPolling();
      this.update({ state: "open", error: null, nextRetryAt: null });
      this.o.log.debug("open", { cursor: this.status.cursor, failures: this.status.failures });
      this.o.onOpen?.();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      // Not every fetch errors an already-open body on abort: cancel the reader ourselves.
      abort.signal.addEventListener("abort", () => void reader.cancel(abort.signal.reason).catch(() => {}));
      const batch: EventEnvelope[] = [];
      const parser = createParser({
        onEvent: (message) => {
          try {
            const data: unknown = JSON.parse(message.data);
            if (isEnvelope(data)) batch.push(data);
            else this.o.log.warn("malformed", "Dropped an event that is not an envelope", { id: message.id });
          } catch {
            this.o.log.warn("malformed", "Dropped an event with invalid JSON", { id: message.id });
          }
        },
        onComment: () => this.update({ lastHeartbeatAt: this.o.now() }),
      });
      this.armIdleTimer(abort);
      for (;;) {
        const { value, done } = await reader.read();
        if (generation !== this.generation) return;
        if (done) {
          if (abort.signal.aborted) throw abort.signal.reason;
          break;
        }
        this.armIdleTimer(abort);
        parser.feed(value);
        if (batch.length > 0) {
          delivered += batch.length;
          this.deliver(batch.splice(0));
        }
        if (this.status.failures > 0 && this.o.now() - openedAt >= this.o.stableAfterMs) this.update({ failures: 0 });
      }
      throw new Error("The server closed the event stream");
    } catch (error) {
      if (generation !== this.generation) return;
      const stable = delivered > 0 || (openedAt !== null && this.o.now() - openedAt >= this.o.stableAfterMs);
      this.onFailure(error, stable);
    }
  }

  private armIdleTimer(abort: AbortController) {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => abort.abort(new Error("No data from the event stream")), this.o.idleTimeoutMs);
  }

  private onFailure(error: unknown, stable: boolean) {
    this.clearTimers();
    const message = abortReason(error);
    if (error instanceof FatalStreamError) {
      this.o.log.warn("fatal", "Event stream refused; not retrying", { status: error.status });
      this.stopPolling();
      this.update({ state: "closed", error: message, nextRetryAt: null });
      return;
    }
    if (!this.o.network.online()) {
      this.onOffline();
      return;
    }
    const failures = stable ? 1 : this.status.failures + 1;
    if (failures >= this.o.pollAfterFailures) this.startPolling();
    const delay = this.polling ? this.o.sseRetryWhilePollingMs : backoffDelay(failures, this.o.backoff, this.o.random);
    this.o.log.warn("reconnect", "Event stream lost; reconnecting", {
      error: message,
      failures,
      delayMs: delay,
      cursor: this.status.cursor,
      counts: this.status.counts,
    });
    this.update({
      failures,
      error: message,
      state: this.polling ? "polling" : "reconnecting",
      nextRetryAt: this.o.now() + delay,
    });
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private onOffline() {
    if (!this.started) return;
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.clearTimers();
    this.stopPolling();
    this.o.log.debug("offline", { cursor: this.status.cursor });
    this.update({ state: "offline", nextRetryAt: null });
  }

  private onOnline() {
    if (!this.started) return;
    this.o.log.debug("online", { cursor: this.status.cursor });
    this.update({ failures: 0 });
    void this.connect();
  }

  private startPolling() {
    if (this.polling) return;
    this.polling = true;
    this.o.log.warn("polling", "Event stream keeps failing; polling instead", { cursor: this.status.cursor });
    this.update({ state: "polling" });
    void this.poll();
  }

  private stopPolling() {
    this.polling = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private async poll() {
    if (!this.polling) return;
    try {
      const response = await this.o.fetch(this.url("events/poll"), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!this.polling) return;
      if (response.ok) {
        const body = (await response.json()) as { events?: unknown[]; cursor?: number };
        if (!this.polling) return;
        this.deliver((body.events ?? []).filter(isEnvelope));
        if (typeof body.cursor === "number") this.advanceCursor(body.cursor);
      } else {
        this.o.log.warn("poll", "Polling failed", { status: response.status });
      }
    } catch (error) {
      this.o.log.warn("poll", "Polling failed", { error: abortReason(error) });
    }
    if (this.polling) this.pollTimer = setTimeout(() => void this.poll(), this.o.pollIntervalMs);
  }
}

function abortReason(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
