import type { ConversationDetail, EventEnvelope } from "@cybros/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { conversationKeys } from "../conversations/queries";
import { debugAvailable, useDebugReport } from "../shell/debug";
import type { StuckThresholds } from "./indicator";
import { activeRun, type ChatState } from "./reconciler";
import { ChatSession, type ChatSessionOptions, type ChatView } from "./session";

declare global {
  interface Window {
    /** Test hook for the e2e matrix (dev builds, or `localStorage["cybros.debug"] = "1"`). */
    __cybrosTransport?: {
      conversationId: string;
      inject(events: EventEnvelope[]): void;
      drop(): void;
      reconnect(): void;
      status(): ChatView["connection"];
      state(): ChatState;
    };
  }
}

const noSubscribe = () => () => {};
const noSnapshot = () => null;

/** Opens a ChatSession for the conversation while mounted and renders its state. */
export function useChatSession(conversationId: string, started?: ChatSessionOptions["started"]) {
  const client = useQueryClient();
  const [session, setSession] = useState<ChatSession | null>(null);
  // Read when the session is made only: a started conversation's first result is not a reason to reopen it.
  const startedRef = useRef(started);

  // Before paint: a conversation just started shows its first message in the first frame, never a skeleton.
  useLayoutEffect(() => {
    let listsTimer: ReturnType<typeof setTimeout> | undefined;
    const refreshLists = () => {
      clearTimeout(listsTimer);
      listsTimer = setTimeout(() => client.invalidateQueries({ queryKey: conversationKeys.lists() }), 500);
    };
    const created = new ChatSession({
      conversationId,
      thresholds: thresholdsFromStorage(),
      started: startedRef.current?.message.conversationId === conversationId ? startedRef.current : undefined,
      onConversationUpdated: () => {
        void client.invalidateQueries({ queryKey: conversationKeys.detail(conversationId) });
        refreshLists();
      },
      onWorkspaceChanged: () => void client.invalidateQueries({ queryKey: conversationKeys.detail(conversationId) }),
      onMachineUsed: () => {
        const detail = client.getQueryData<ConversationDetail>(conversationKeys.detail(conversationId));
        if (detail && !detail.workspace)
          void client.invalidateQueries({ queryKey: conversationKeys.detail(conversationId) });
      },
      onActivity: refreshLists,
    });
    setSession(created);
    void created.start();
    const unhook = debugAvailable() ? exposeTestHook(created) : () => {};
    return () => {
      clearTimeout(listsTimer);
      unhook();
      created.dispose();
    };
  }, [conversationId, client]);

  const view = useSyncExternalStore(session?.subscribe ?? noSubscribe, session?.getSnapshot ?? noSnapshot);
  useDebugReport(
    "Chat stream",
    useMemo(() => (view && debugAvailable() ? debugSnapshot(view) : null), [view]),
  );
  return { session, view };
}

function exposeTestHook(session: ChatSession): () => void {
  const hook: NonNullable<Window["__cybrosTransport"]> = {
    conversationId: session.conversationId,
    inject: (events) => session.inject(events),
    drop: () => session.dropConnection(),
    reconnect: () => session.reconnect(),
    status: () => session.getSnapshot().connection,
    state: () => session.getSnapshot().chat,
  };
  window.__cybrosTransport = hook;
  return () => {
    if (window.__cybrosTransport === hook) delete window.__cybrosTransport;
  };
}

/** `localStorage["cybros.chat.stuckMs"]`: "N" or "silentMs,stalledMs", so tests can shorten the stuck timers. */
function thresholdsFromStorage(): StuckThresholds | undefined {
  try {
    const raw = window.localStorage.getItem("cybros.chat.stuckMs");
    if (!raw) return undefined;
    const [silent, stalled] = raw.split(",").map(Number);
    if (!silent || silent <= 0) return undefined;
    return { silentMs: silent, stalledMs: stalled && stalled > 0 ? stalled : silent };
  } catch {
    return undefined;
  }
}

function ago(at: number | null): string | null {
  if (at === null) return null;
  return `${((Date.now() - at) / 1000).toFixed(1)} s ago`;
}

function debugSnapshot(view: ChatView): Record<string, unknown> {
  const { chat, connection } = view;
  const run = activeRun(chat);
  return {
    connection: connection?.state ?? (view.loading ? "loading" : "—"),
    failures: connection?.failures ?? 0,
    error: connection?.error ?? null,
    "stream cursor": connection?.cursor ?? null,
    "applied cursor": chat.cursor,
    "active run": run?.id ?? null,
    "run state": run
      ? `${run.state} / ${run.indicator.phase}${run.indicator.stuck ? ` (stuck: ${run.indicator.stuck})` : ""}`
      : null,
    "active node": run?.activeNodeId ?? null,
    received: connection?.received ?? 0,
    "by kind": Object.entries(chat.counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", "),
    dropped: chat.dropped,
    "resync pending": chat.resync,
    "last heartbeat": ago(chat.lastHeartbeatAt ?? connection?.lastHeartbeatAt ?? null),
    messages: chat.order.length,
  };
}
