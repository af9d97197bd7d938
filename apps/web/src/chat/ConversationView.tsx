import { ArrowDown, CloudOff, Loader2, RefreshCw } from "lucide-react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { errorMessage } from "../lib/api";
import { Inspector, useInspectorAvailable } from "../shell/inspector";
import { LoadError, Skeleton, useToast } from "../ui";
import "./chat.css";
import { Composer } from "./Composer";
import { AssistantMessage, PendingReply, type RowActions, UserMessage } from "./MessageRow";
import { RunInspector } from "./RunInspector";
import { activeRun } from "./reconciler";
import type { ChatSessionOptions, ChatView } from "./session";
import { ToolHostContext } from "./toolHost";
import { transcriptItems } from "./transcript";
import { useChatSession } from "./useChatSession";
import { useStickToBottom } from "./useStickToBottom";

/**
 * The chat for one conversation: the transcript, live replies, the composer, and the reply inspector. `started`
 * is the first send of a conversation created by it, shown before the page loads.
 */
export function ConversationView({
  conversationId,
  started,
}: {
  conversationId: string;
  started?: ChatSessionOptions["started"];
}) {
  const { session, view } = useChatSession(conversationId, started);
  const toast = useToast();
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const { atBottom, scrollToBottom, preserveFrom } = useStickToBottom(scroller, content);
  const [inspecting, setInspecting] = useState<{ runId: string; messageId: string | null } | null>(null);
  const inspectorAvailable = useInspectorAvailable();

  const chat = view?.chat ?? null;
  const items = useMemo(() => (chat ? transcriptItems(chat) : []), [chat]);
  const current = chat ? activeRun(chat) : null;

  const report = useCallback(
    (what: string) => (error: unknown) => toast.show(`${what}: ${errorMessage(error)}`, "danger"),
    [toast],
  );

  const actions = useMemo<RowActions>(
    () => ({
      stop: (runId) => void session?.stop(runId).catch(report("Could not stop the reply")),
      retry: (runId) => void session?.retry(runId).catch(report("Could not retry")),
      restart: (runId) => void session?.restart(runId).catch(report("Could not retry")),
      resend: (clientMessageId) => session?.resend(clientMessageId),
      discard: (clientMessageId) => session?.discard(clientMessageId),
      inspect: (target) => setInspecting(inspectorAvailable ? target : null),
    }),
    [session, report, inspectorAvailable],
  );

  const onSend = useCallback(
    (text: string) => {
      session?.send(text);
      scrollToBottom();
    },
    [session, scrollToBottom],
  );
  const onStop = useCallback(() => {
    if (current) actions.stop(current.id);
  }, [actions, current]);

  // Older messages load when the top of the list comes into view; the view stays where it was.
  const top = useRef<HTMLDivElement>(null);
  const olderCursor = chat?.olderCursor ?? null;
  const loadingOlder = view?.loadingOlder ?? false;
  useEffect(() => {
    const el = top.current;
    if (!el || !olderCursor || !session || typeof IntersectionObserver !== "function") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting) || session.getSnapshot().loadingOlder) return;
        preserveFrom();
        void session.loadOlder().catch(report("Could not load earlier messages"));
      },
      { root: scroller.current, rootMargin: "200px 0px 0px 0px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [olderCursor, session, preserveFrom, report]);

  const selectedRun = inspecting && chat ? (chat.runs.get(inspecting.runId) ?? null) : null;

  return (
    <div className="relative flex min-h-0 flex-1 flex-col" data-conversation={conversationId}>
      <ConnectionNotice view={view} onReconnect={() => session?.reconnect()} />
      <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto overscroll-contain [overflow-anchor:none]">
        <div ref={content} className="mx-auto w-full max-w-3xl px-4 pt-4 pb-6 md:px-6">
          <div ref={top} />
          {olderCursor ? (
            <div className="flex justify-center py-2">
              <button
                type="button"
                disabled={loadingOlder}
                onClick={() => {
                  preserveFrom();
                  void session?.loadOlder().catch(report("Could not load earlier messages"));
                }}
                className="inline-flex items-center gap-1.5 rounded-full px-3 py-1 text-xs text-fg-muted hover:bg-surface-2"
              >
                {loadingOlder ? <Loader2 aria-hidden className="size-3.5 animate-spin" /> : null}
                Load earlier messages
              </button>
            </div>
          ) : null}
          {!view ? (
            started ? null : (
              <TranscriptSkeleton />
            )
          ) : view.loading ? (
            <TranscriptSkeleton />
          ) : view.loadError ? (
            <div className="py-10">
              <LoadError message={view.loadError} onRetry={() => void session?.load()} />
            </div>
          ) : items.length === 0 ? (
            <div className="flex min-h-[40vh] flex-col items-center justify-center text-center">
              <h2 className="text-2xl font-semibold text-fg">What can I help with?</h2>
              <p className="mt-2 text-sm text-fg-muted">Send a message to start.</p>
            </div>
          ) : (
            // Tool cards read their live output and answer approvals through the session.
            <ToolHostContext.Provider value={session}>
              <ol aria-label="Messages" className="flex flex-col">
                {items.map((item) => (
                  <li key={item.key}>
                    {item.type === "pending" ? (
                      <PendingReply
                        run={item.run}
                        busy={view.pending.has(item.run.id)}
                        hookWarnings={item.hookWarnings}
                        actions={actions}
                      />
                    ) : item.message.role === "user" ? (
                      <UserMessage message={item.message} actions={actions} />
                    ) : (
                      <AssistantMessage
                        message={item.message}
                        run={item.anchor}
                        continued={item.continued}
                        selected={inspecting?.messageId === item.message.id}
                        busy={item.anchor ? view.pending.has(item.anchor.id) : false}
                        hookWarnings={item.hookWarnings}
                        actions={actions}
                      />
                    )}
                  </li>
                ))}
              </ol>
            </ToolHostContext.Provider>
          )}
        </div>
      </div>
      {!atBottom && items.length > 0 ? (
        <button
          type="button"
          onClick={() => scrollToBottom("smooth")}
          className="absolute bottom-28 left-1/2 z-10 inline-flex -translate-x-1/2 items-center gap-1.5 rounded-full border border-line-strong bg-surface px-3 py-1.5 text-sm text-fg shadow-md hover:bg-surface-2"
        >
          <ArrowDown aria-hidden className="size-4" />
          Jump to latest
        </button>
      ) : null}
      <Composer
        conversationId={conversationId}
        running={current !== null}
        stopping={current ? (view?.pending.has(current.id) ?? false) : false}
        onSend={onSend}
        onStop={onStop}
      />
      <RunAnnouncer state={current?.state ?? null} />
      {inspecting ? (
        <ToolHostContext.Provider value={session}>
          <Inspector open title="Reply details" onClose={() => setInspecting(null)}>
            <RunInspector runId={inspecting.runId} run={selectedRun} />
          </Inspector>
        </ToolHostContext.Provider>
      ) : null}
    </div>
  );
}

function TranscriptSkeleton() {
  return (
    <div className="space-y-6 py-4" aria-busy="true">
      <span className="sr-only" role="status">
        Loading messages
      </span>
      <Skeleton className="ml-auto h-10 w-1/2 rounded-3xl" />
      <div className="space-y-2">
        <Skeleton className="h-4 w-11/12" />
        <Skeleton className="h-4 w-4/5" />
        <Skeleton className="h-4 w-2/3" />
      </div>
    </div>
  );
}

/** Offline, reconnecting, polling or stopped: said plainly above the transcript, never a silent stall. */
function ConnectionNotice({ view, onReconnect }: { view: ChatView | null; onReconnect: () => void }) {
  const connection = view?.connection;
  if (!connection) return null;
  let text: string | null = null;
  let action = false;
  if (connection.state === "offline") text = "You are offline. Replies will continue when you are back online.";
  else if (connection.state === "reconnecting" && connection.failures >= 2) {
    text = "Reconnecting to live updates…";
    action = true;
  } else if (connection.state === "polling") {
    text = "Live updates are unavailable; checking for new messages every few seconds.";
    action = true;
  } else if (connection.state === "closed" && connection.error) {
    text = "Live updates stopped. Reload the page to reconnect.";
  }
  if (!text) return null;
  return (
    <div
      role="status"
      className="flex shrink-0 items-center justify-center gap-2 border-b border-line bg-surface-2 px-4 py-1.5 text-xs text-fg-muted"
    >
      <CloudOff aria-hidden className="size-3.5 shrink-0" />
      <span>{text}</span>
      {action ? (
        <button
          type="button"
          onClick={onReconnect}
          className="inline-flex items-center gap-1 rounded px-1.5 py-0.5 font-medium text-fg hover:bg-surface-3"
        >
          <RefreshCw aria-hidden className="size-3" />
          Reconnect
        </button>
      ) : null}
    </div>
  );
}

/** Tells screen readers when the reply in progress ends, without reading every streamed word. */
function RunAnnouncer({ state }: { state: string | null }) {
  const [message, setMessage] = useState("");
  const previous = useRef<string | null>(null);
  useEffect(() => {
    if (previous.current === "running" && state === null) setMessage("Reply finished.");
    if (state === "running") setMessage("Assistant is replying…");
    previous.current = state;
  }, [state]);
  return (
    <span className="sr-only" aria-live="polite">
      {message}
    </span>
  );
}
