import { AlertCircle, CheckCircle2, ChevronRight, CircleSlash, Loader2, ShieldAlert } from "lucide-react";
import { memo, type ReactNode, useEffect, useState } from "react";
import { cn } from "../ui";
import type { ToolPart } from "./reconciler";
import { useDirectiveOutput, useToolHost } from "./toolHost";
import { ApprovalPanel } from "./tools/ApprovalPanel";
import { toolView } from "./tools/index";
import { OutputPane } from "./tools/OutputPane";

const PREVIEW_CHARS = 20_000;

/**
 * A tool call as a collapsible card: what it did in words ("Searched the web for “cats”") and one line about the
 * result or what failed, at a glance; what matters for the tool (a command and its live output, a diff, the lines
 * read) or the raw arguments and result one click away. A call waiting for a person opens itself with Approve and
 * Reject; a command opens itself while it runs.
 */
export const ToolCallCard = memo(function ToolCallCard({ part }: { part: ToolPart }) {
  const host = useToolHost();
  const output = useDirectiveOutput(part.id);
  const view = toolView(part.name);
  const title = part.title || part.name || "Tool";
  // Cut short by the reply's Stop: not a failure of the tool.
  const stopped = part.state === "error" && part.stopped === true;
  const failed = part.state === "error" && !stopped;
  const done = part.state === "error" || part.state === "completed";
  const asking = !done && part.approval !== undefined;
  const territory = part.directive?.territory;
  const printed = (output?.chunks.length ?? 0) > 0;
  const printing = !done && printed;
  // A finished command's result says what it printed, in the tool's words: the raw output is one click away.
  const resultSaysIt = done && !failed && part.result !== undefined;
  const pane = printed && output ? <OutputPane part={part} view={output} /> : null;
  const attention = asking || printing || (!done && part.name === "bash" && part.directive !== undefined);
  const [open, setOpen] = useState(attention);
  useEffect(() => {
    if (attention) setOpen(true);
  }, [attention]);

  // A card shown while its directive runs (a reload mid-run) fetches what it printed so far, once; so does one cut
  // short by a Stop, whose tool never kept a result.
  const directiveId = part.directive?.id;
  const fetchOutput = !done || stopped;
  useEffect(() => {
    if (host && directiveId && fetchOutput) host.loadDirectiveOutput(part.id, directiveId);
  }, [host, directiveId, fetchOutput, part.id]);

  const state = stopped
    ? { icon: <CircleSlash aria-hidden className="size-4 text-fg-subtle" />, label: "Canceled" }
    : failed
      ? { icon: <AlertCircle aria-hidden className="size-4 text-danger-text" />, label: "Failed" }
      : part.state === "completed"
        ? { icon: <CheckCircle2 aria-hidden className="size-4 text-success-text" />, label: "Done" }
        : asking
          ? { icon: <ShieldAlert aria-hidden className="size-4 text-warning-text" />, label: "Needs approval" }
          : { icon: <Loader2 aria-hidden className="size-4 animate-spin text-fg-subtle" />, label: "Running" };
  const line = stopped
    ? "Canceled: the reply was stopped"
    : failed
      ? `Failed: ${part.summary || firstLine(part.error) || "the tool did not finish"}`
      : part.state === "completed"
        ? part.summary || view?.line?.(part)
        : asking
          ? "Waiting for your approval"
          : part.decided?.decision === "rejected"
            ? "Rejected"
            : territory
              ? `Running on ${territory}…`
              : "Running…";
  return (
    <details
      className="group my-2 rounded-xl border border-line bg-surface text-sm"
      data-tool-call={part.id}
      data-tool-state={part.state}
      data-tool-stopped={stopped || undefined}
      data-approval-pending={asking || undefined}
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary className="flex cursor-pointer list-none items-start gap-2 rounded-xl px-3 py-2 select-none hover:bg-surface-2 [&::-webkit-details-marker]:hidden">
        <ChevronRight
          aria-hidden
          className="mt-0.5 size-4 shrink-0 text-fg-subtle transition-transform group-open:rotate-90"
        />
        <span className="mt-0.5 shrink-0">{state.icon}</span>
        <span className="min-w-0 flex-1">
          <span className="block truncate font-medium text-fg" data-tool-title>
            {title}
          </span>
          {line ? (
            <span
              className={cn(
                "block truncate text-xs",
                failed ? "text-danger-text" : asking ? "text-warning-text" : "text-fg-muted",
              )}
              data-tool-summary
            >
              {line}
            </span>
          ) : null}
        </span>
        <span className="ml-auto inline-flex shrink-0 items-center gap-1.5 pt-0.5 text-xs text-fg-subtle">
          {part.durationMs !== undefined ? <span>{formatDuration(part.durationMs)}</span> : null}
          <span className="sr-only">{state.label}</span>
        </span>
      </summary>
      <div className="space-y-3 border-t border-line px-3 py-3">
        {asking && part.approval ? (
          <ApprovalPanel nodeId={part.id} approval={part.approval} territory={territory} />
        ) : null}
        {view ? (
          <>
            <view.Body part={part} output={output} />
            {failed && part.name !== "bash" ? (
              <Payload label="Error" value={part.error ?? "The tool failed."} tone="danger" />
            ) : null}
            <RawCall part={part} />
          </>
        ) : (
          <>
            <p className="font-mono text-xs text-fg-subtle">{part.name}</p>
            <Payload label="Arguments" value={part.args} />
            {resultSaysIt ? null : pane}
            {failed ? (
              <Payload label="Error" value={part.error ?? "The tool failed."} tone="danger" />
            ) : part.result !== undefined ? (
              <Payload label="Result" value={part.result} />
            ) : !done && !asking ? (
              <p className="text-xs text-fg-subtle">Waiting for the result…</p>
            ) : null}
            {pane && resultSaysIt ? <Revealed label="Show what the command printed">{pane}</Revealed> : null}
          </>
        )}
      </div>
    </details>
  );
});

/** The call as the model made it and what it got back, behind a button under a tool's own view. */
function RawCall({ part }: { part: ToolPart }) {
  return (
    <Revealed label={`Show the call (${part.name})`}>
      <Payload label="Arguments" value={part.args} />
      {part.result !== undefined ? <Payload label="Result" value={part.result} /> : null}
    </Revealed>
  );
}

/** Secondary detail behind a quiet button, shown for good once asked for. */
function Revealed({ label, children }: { label: string; children: ReactNode }) {
  const [shown, setShown] = useState(false);
  if (!shown) {
    return (
      <button
        type="button"
        onClick={() => setShown(true)}
        className="text-xs text-fg-subtle hover:text-fg hover:underline"
      >
        {label}
      </button>
    );
  }
  return <div className="space-y-3">{children}</div>;
}

function firstLine(text: string | undefined): string {
  return text?.trim().split("\n", 1)[0] ?? "";
}

function Payload({ label, value, tone }: { label: string; value: unknown; tone?: "danger" }) {
  const [full, setFull] = useState(false);
  const text = formatValue(value);
  const long = text.length > PREVIEW_CHARS;
  return (
    <div>
      <div className="mb-1 text-xs font-medium text-fg-muted">{label}</div>
      <pre
        className={cn(
          "max-h-80 overflow-auto rounded-lg p-2.5 font-mono text-xs leading-relaxed whitespace-pre-wrap break-words",
          tone === "danger" ? "bg-danger-soft text-danger-text" : "bg-surface-2 text-fg",
        )}
      >
        {long && !full ? `${text.slice(0, PREVIEW_CHARS)}…` : text}
      </pre>
      {long && !full ? (
        <button type="button" onClick={() => setFull(true)} className="mt-1 text-xs text-accent-text hover:underline">
          Show all {text.length.toLocaleString()} characters
        </button>
      ) : null}
    </div>
  );
}

export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") {
    // Arguments often arrive as JSON text: show them indented.
    const trimmed = value.trim();
    if ((trimmed.startsWith("{") && trimmed.endsWith("}")) || (trimmed.startsWith("[") && trimmed.endsWith("]"))) {
      try {
        return JSON.stringify(JSON.parse(trimmed), null, 2);
      } catch {
        return value;
      }
    }
    return value;
  }
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
