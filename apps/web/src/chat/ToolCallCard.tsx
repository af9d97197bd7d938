import { AlertCircle, CheckCircle2, ChevronRight, Loader2, Wrench } from "lucide-react";
import { memo, useState } from "react";
import { cn } from "../ui";
import type { ToolPart } from "./reconciler";

const PREVIEW_CHARS = 20_000;

/** A tool call as a collapsible card: name and state at a glance; arguments, result or error, duration inside. */
export const ToolCallCard = memo(function ToolCallCard({ part }: { part: ToolPart }) {
  const name = part.name || "tool";
  const state =
    part.state === "error"
      ? { icon: <AlertCircle aria-hidden className="size-4 text-danger-text" />, label: "Failed" }
      : part.state === "completed"
        ? { icon: <CheckCircle2 aria-hidden className="size-4 text-success-text" />, label: "Done" }
        : { icon: <Loader2 aria-hidden className="size-4 animate-spin text-fg-subtle" />, label: "Running" };
  return (
    <details className="group my-2 rounded-xl border border-line bg-surface text-sm" data-tool-call={part.id}>
      <summary className="flex cursor-pointer list-none items-center gap-2 rounded-xl px-3 py-2 select-none hover:bg-surface-2 [&::-webkit-details-marker]:hidden">
        <ChevronRight
          aria-hidden
          className="size-4 shrink-0 text-fg-subtle transition-transform group-open:rotate-90"
        />
        <Wrench aria-hidden className="size-4 shrink-0 text-fg-subtle" />
        <span className="min-w-0 truncate font-mono text-[13px] text-fg">{name}</span>
        <span className="ml-auto inline-flex shrink-0 items-center gap-1.5 text-xs text-fg-muted">
          {part.durationMs !== undefined ? <span>{formatDuration(part.durationMs)}</span> : null}
          {state.icon}
          <span className="sr-only">{state.label}</span>
        </span>
      </summary>
      <div className="space-y-3 border-t border-line px-3 py-3">
        <Payload label="Arguments" value={part.args} />
        {part.state === "error" ? (
          <Payload label="Error" value={part.error ?? "The tool failed."} tone="danger" />
        ) : part.result !== undefined ? (
          <Payload label="Result" value={part.result} />
        ) : part.state !== "completed" ? (
          <p className="text-xs text-fg-subtle">Waiting for the result…</p>
        ) : null}
      </div>
    </details>
  );
});

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
