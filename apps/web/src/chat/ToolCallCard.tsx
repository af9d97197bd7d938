import { AlertCircle, CheckCircle2, ChevronRight, Loader2 } from "lucide-react";
import { memo, useState } from "react";
import { cn } from "../ui";
import type { ToolPart } from "./reconciler";

const PREVIEW_CHARS = 20_000;

/**
 * A tool call as a collapsible card: what it did in words ("Searched the web for “cats”") and one line about the
 * result or what failed, at a glance; the raw arguments, result or error and the duration one click away.
 */
export const ToolCallCard = memo(function ToolCallCard({ part }: { part: ToolPart }) {
  const title = part.title || part.name || "Tool";
  const failed = part.state === "error";
  const state = failed
    ? { icon: <AlertCircle aria-hidden className="size-4 text-danger-text" />, label: "Failed" }
    : part.state === "completed"
      ? { icon: <CheckCircle2 aria-hidden className="size-4 text-success-text" />, label: "Done" }
      : { icon: <Loader2 aria-hidden className="size-4 animate-spin text-fg-subtle" />, label: "Running" };
  const line = failed
    ? `Failed: ${part.summary || firstLine(part.error) || "the tool did not finish"}`
    : part.state === "completed"
      ? part.summary
      : "Running…";
  return (
    <details
      className="group my-2 rounded-xl border border-line bg-surface text-sm"
      data-tool-call={part.id}
      data-tool-state={part.state}
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
              className={cn("block truncate text-xs", failed ? "text-danger-text" : "text-fg-muted")}
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
        <p className="font-mono text-xs text-fg-subtle">{part.name}</p>
        <Payload label="Arguments" value={part.args} />
        {failed ? (
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
