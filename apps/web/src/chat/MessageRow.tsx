import type { HookWarning } from "@cybros/protocol";
import { AlertTriangle, Info, RotateCcw, ShieldAlert, Sparkles, Square, SquareTerminal } from "lucide-react";
import { type MouseEvent, memo, type ReactNode } from "react";
import { Link, useInRouterContext } from "react-router";
import { Button, cn } from "../ui";
import { HookWarnings } from "./HookWarnings";
import { isTerminalPhase, type Waiting } from "./indicator";
import { CopyButton, Markdown } from "./Markdown";
import type { ChatMessage, RunView } from "./reconciler";
import { ToolCallCard } from "./ToolCallCard";
import { describeRunError } from "./transcript";

export interface RowActions {
  stop: (runId: string) => void;
  retry: (runId: string) => void;
  /** Retry a run that is still running (stuck): stop it, then retry. */
  restart: (runId: string) => void;
  resend: (clientMessageId: string) => void;
  discard: (clientMessageId: string) => void;
  inspect: (target: { runId: string; messageId: string | null }) => void;
}

export const UserMessage = memo(function UserMessage({
  message,
  actions,
}: {
  message: ChatMessage;
  actions: RowActions;
}) {
  const local = message.local;
  return (
    <div
      className="flex flex-col items-end gap-1 py-3"
      data-message-id={message.id}
      data-role="user"
      data-local={local?.status}
    >
      <div className="max-w-[85%] rounded-3xl bg-surface-2 px-4 py-2.5 text-[15px] leading-7 whitespace-pre-wrap break-words text-fg sm:max-w-[75%]">
        {message.text}
      </div>
      {local?.status === "failed" ? (
        <div role="alert" className="flex flex-wrap items-center justify-end gap-2 text-xs text-danger-text">
          <span>Not sent{local.error ? `: ${local.error}` : ""}</span>
          <Button size="sm" variant="ghost" onClick={() => actions.resend(message.clientMessageId!)}>
            Send again
          </Button>
          <Button size="sm" variant="ghost" onClick={() => actions.discard(message.clientMessageId!)}>
            Discard
          </Button>
        </div>
      ) : local ? (
        <span className="text-xs text-fg-subtle">{local.status === "sending" ? "Sending…" : "Waiting to send…"}</span>
      ) : null}
    </div>
  );
});

export const AssistantMessage = memo(function AssistantMessage({
  message,
  run,
  continued,
  selected,
  busy,
  hookWarnings,
  actions,
}: {
  message: ChatMessage;
  run: RunView | null;
  continued: boolean;
  selected: boolean;
  busy: boolean;
  /** Hooks of this reply's run that failed: shown under its last bubble. */
  hookWarnings?: readonly HookWarning[];
  actions: RowActions;
}) {
  const phase = run?.indicator.phase ?? phaseOf[message.state];
  const live = run !== null && !isTerminalPhase(phase) && phase !== "idle";
  const empty = message.text === "" && message.tools.length === 0;
  const runId = run?.id ?? message.runId;
  const onClick = (event: MouseEvent) => {
    if (!runId) return;
    const target = event.target as HTMLElement;
    if (target.closest("a, button, [role=button], summary, pre, input, textarea")) return;
    if (window.getSelection()?.toString()) return;
    actions.inspect({ runId, messageId: message.id });
  };
  return (
    <Reply
      messageId={message.id}
      state={message.state}
      runState={run?.state}
      phase={phase}
      continued={continued}
      selected={selected}
      onClick={onClick}
    >
      {message.text ? (
        <Markdown text={message.text} final={message.state !== "pending" && message.state !== "streaming"} />
      ) : null}
      {message.tools.map((part) => (
        <ToolCallCard key={part.id} part={part} />
      ))}
      {live ? (
        <LiveIndicator
          run={run}
          empty={empty}
          asking={message.tools.some((t) => t.approval && t.state !== "completed" && t.state !== "error")}
          actions={actions}
        />
      ) : (
        <Outcome run={run} message={message} busy={busy} actions={actions} />
      )}
      {hookWarnings?.length ? <HookWarnings warnings={hookWarnings} /> : null}
      {!live && message.text ? (
        <div className="mt-1 flex items-center gap-1 opacity-70 transition-opacity group-hover/reply:opacity-100 focus-within:opacity-100">
          {outcomeOf(run, message) === "canceled" && runId ? (
            <StoppedNote busy={busy} onRetry={() => actions.retry(runId)} />
          ) : null}
          <CopyButton text={message.text} label="Copy reply" />
          {runId ? (
            <button
              type="button"
              onClick={() => actions.inspect({ runId, messageId: message.id })}
              className="inline-flex items-center gap-1 rounded-md px-1.5 py-1 text-xs text-fg-muted hover:bg-surface-3/70 hover:text-fg"
            >
              <Info aria-hidden className="size-3.5" />
              Details
            </button>
          ) : null}
        </div>
      ) : null}
    </Reply>
  );
});

const phaseOf = {
  pending: "idle",
  streaming: "idle",
  completed: "completed",
  errored: "errored",
  canceled: "canceled",
} as const;

function outcomeOf(run: RunView | null, message: ChatMessage | null): "failed" | "canceled" | null {
  const state = run?.state;
  if (state === "failed" || state === "canceled") return state;
  if (state) return null;
  return message?.state === "errored" ? "failed" : message?.state === "canceled" ? "canceled" : null;
}

/** A run with no message yet: queued, starting, or failed before it wrote anything. */
export const PendingReply = memo(function PendingReply({
  run,
  busy,
  hookWarnings,
  actions,
}: {
  run: RunView;
  busy: boolean;
  hookWarnings?: readonly HookWarning[];
  actions: RowActions;
}) {
  const live = !isTerminalPhase(run.indicator.phase);
  return (
    <Reply messageId={null} state={live ? "pending" : run.state} runState={run.state} phase={run.indicator.phase}>
      {live ? (
        <LiveIndicator run={run} empty actions={actions} />
      ) : (
        <Outcome run={run} message={null} busy={busy} actions={actions} />
      )}
      {hookWarnings?.length ? <HookWarnings warnings={hookWarnings} /> : null}
    </Reply>
  );
});

function Reply({
  messageId,
  state,
  runState,
  phase,
  continued,
  selected,
  onClick,
  children,
}: {
  messageId: string | null;
  state: string;
  runState: string | undefined;
  phase: string;
  continued?: boolean;
  selected?: boolean;
  onClick?: (event: MouseEvent) => void;
  children: ReactNode;
}) {
  return (
    <div
      className={cn("group/reply flex gap-3", continued ? "pb-3" : "py-3")}
      data-message-id={messageId ?? undefined}
      data-role="assistant"
      data-state={state}
      data-run-state={runState}
      data-indicator={phase}
    >
      <div
        aria-hidden
        className={cn(
          "mt-0.5 hidden size-7 shrink-0 items-center justify-center rounded-full text-fg-muted sm:flex",
          !continued && "border border-line bg-surface",
        )}
      >
        {continued ? null : <Sparkles className="size-3.5" />}
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useKeyWithClickEvents: a pointer shortcut; the Details button is the keyboard path */}
      <div
        onClick={onClick}
        className={cn(
          "min-w-0 flex-1 rounded-xl text-[15px] leading-7 text-fg",
          selected && "bg-accent-soft/40 ring-1 ring-accent/30 -mx-2 px-2",
        )}
      >
        {children}
      </div>
    </div>
  );
}

function LiveIndicator({
  run,
  empty,
  asking = false,
  actions,
}: {
  run: RunView;
  empty: boolean;
  /** A card of this reply waits for the person's approval. */
  asking?: boolean;
  actions: RowActions;
}) {
  const { phase, stuck, waiting } = run.indicator;
  if (waiting) return <WaitingNote waiting={asking ? { for: "approval" } : waiting} />;
  return (
    <>
      {phase === "queued" ? (
        <p className="flex items-center gap-2 text-sm text-fg-subtle" role="status">
          <Dots /> Waiting for the previous reply…
        </p>
      ) : empty ? (
        <p className="flex h-7 items-center" role="status" aria-label="Assistant is typing">
          <Dots />
        </p>
      ) : (
        <span aria-hidden className="ml-0.5 inline-block size-2.5 animate-pulse rounded-full bg-fg align-middle" />
      )}
      {stuck ? <StuckWarning run={run} reason={stuck} actions={actions} /> : null}
    </>
  );
}

/** A run that handed itself back: what it waits for, in place of the typing dots (and never a stuck warning). */
function WaitingNote({ waiting }: { waiting: Waiting }) {
  const approval = waiting.for === "approval";
  const text = approval
    ? "Waiting for your approval"
    : waiting.for === "directive"
      ? waiting.territory
        ? `Running on ${waiting.territory}`
        : "Running the command"
      : "Waiting…";
  return (
    <p
      className={cn("mt-1 flex items-center gap-2 text-sm", approval ? "text-warning-text" : "text-fg-muted")}
      role="status"
      data-waiting={waiting.for}
    >
      {approval ? (
        <ShieldAlert aria-hidden className="size-4 shrink-0" />
      ) : (
        <SquareTerminal aria-hidden className="size-4 shrink-0 animate-pulse" />
      )}
      {text}
    </p>
  );
}

function Dots() {
  return (
    <span aria-hidden className="inline-flex items-center gap-1">
      {[0, 150, 300].map((delay) => (
        <span
          key={delay}
          className="size-1.5 animate-bounce rounded-full bg-fg-subtle"
          style={{ animationDelay: `${delay}ms` }}
        />
      ))}
    </span>
  );
}

const stuckText = {
  silent: "No word from this reply for a while. The connection or the server may be in trouble.",
  stalled: "The model has not sent anything for a while.",
};

function StuckWarning({ run, reason, actions }: { run: RunView; reason: keyof typeof stuckText; actions: RowActions }) {
  return (
    <div
      role="alert"
      className="mt-3 flex flex-wrap items-center gap-x-3 gap-y-2 rounded-xl border border-warning-line bg-warning-soft px-3 py-2.5 text-sm text-warning-text"
    >
      <AlertTriangle aria-hidden className="size-4 shrink-0" />
      <span className="min-w-0 flex-1">{stuckText[reason]}</span>
      <span className="flex gap-2">
        <Button size="sm" icon={<Square aria-hidden className="size-3.5" />} onClick={() => actions.stop(run.id)}>
          Cancel
        </Button>
        <Button size="sm" icon={<RotateCcw aria-hidden className="size-3.5" />} onClick={() => actions.restart(run.id)}>
          Retry
        </Button>
      </span>
    </div>
  );
}

function Outcome({
  run,
  message,
  busy,
  actions,
}: {
  run: RunView | null;
  message: ChatMessage | null;
  busy: boolean;
  actions: RowActions;
}) {
  const runId = run?.id ?? message?.runId ?? null;
  const state = outcomeOf(run, message);
  if (state === "failed") {
    const error = run?.error ?? message?.error ?? null;
    const { title, detail } = describeRunError(error);
    return (
      <div
        role="alert"
        className="mt-2 flex flex-wrap items-start gap-x-3 gap-y-2 rounded-xl border border-danger/30 bg-danger-soft px-3 py-2.5 text-sm text-danger-text"
      >
        <AlertTriangle aria-hidden className="mt-0.5 size-4 shrink-0" />
        <div className="min-w-0 flex-1">
          <p className="font-medium">{title}</p>
          {detail ? <p className="mt-0.5 break-words opacity-90">{detail}</p> : null}
          {error && providerCodes.has(error.code) ? <FixProviders /> : null}
        </div>
        {runId ? (
          <Button
            size="sm"
            busy={busy}
            icon={<RotateCcw aria-hidden className="size-3.5" />}
            onClick={() => actions.retry(runId)}
          >
            Retry
          </Button>
        ) : null}
      </div>
    );
  }
  // A stopped reply with text says so in its footer, beside Copy.
  if (state === "canceled" && !message?.text) {
    return (
      <div className="mt-1 flex items-center gap-1">
        <StoppedNote busy={busy} onRetry={runId ? () => actions.retry(runId) : undefined} />
      </div>
    );
  }
  return null;
}

/** Failures only a provider change fixes: say where. */
const providerCodes: ReadonlySet<string> = new Set(["no_provider_for_model", "auth_failed"]);

function FixProviders() {
  const routed = useInRouterContext();
  const className = "mt-1 inline-block font-medium underline underline-offset-2 hover:no-underline";
  return routed ? (
    <Link to="/system/settings#providers" className={className}>
      Fix in System settings
    </Link>
  ) : (
    <a href="/system/settings#providers" className={className}>
      Fix in System settings
    </a>
  );
}

function StoppedNote({ busy, onRetry }: { busy: boolean; onRetry?: () => void }) {
  return (
    <>
      <span className="inline-flex items-center gap-1.5 px-1.5 text-xs text-fg-subtle">
        <Square aria-hidden className="size-3" />
        Stopped
      </span>
      {onRetry ? (
        <Button
          size="sm"
          variant="ghost"
          busy={busy}
          icon={<RotateCcw aria-hidden className="size-3.5" />}
          onClick={onRetry}
          className="h-7 px-2 text-xs"
        >
          Retry
        </Button>
      ) : null}
    </>
  );
}
