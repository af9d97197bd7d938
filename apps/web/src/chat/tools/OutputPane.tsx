import { useLayoutEffect, useMemo, useRef } from "react";
import { cn } from "../../ui";
import {
  type DirectiveView,
  describeEnd,
  finalDirectiveStates,
  type OutputChunk,
  plainText,
  visibleOutput,
} from "../directiveOutput";
import type { ToolPart } from "../reconciler";
import { fieldsOf, flag, number, resultFields, text } from "./fields";

/** Within this many pixels of the end counts as at the end: new output keeps the pane scrolled down. */
const PINNED_PX = 16;

/**
 * A directive's output as a terminal shows it: stdout and stderr interleaved as they arrived (stderr tinted), the
 * last lines only, following new output while scrolled to the end, and how it ended. After a reload the live
 * chunks are gone; the tool's result (what it kept of each stream) stands in for them.
 */
export function OutputPane({
  part,
  view,
  command,
  resultAsOutput = false,
}: {
  part: ToolPart;
  view: DirectiveView | undefined;
  /** Shown above the output as `$ command`. */
  command?: string;
  /** A result that is plain text is the command's output (bash); for other tools it is the card's Result. */
  resultAsOutput?: boolean;
}) {
  const result = resultFields(part);
  // A failed command's output is in its error (what the model read).
  const kept = resultAsOutput && part.result === undefined ? part.error : part.result;
  const fallback = useMemo(() => fallbackChunks(kept, resultAsOutput), [kept, resultAsOutput]);
  const chunks = view && view.chunks.length > 0 ? view.chunks : fallback;
  const { segments, hidden } = useMemo(() => visibleOutput(chunks), [chunks]);
  const done = part.state === "completed" || part.state === "error";
  const state = view?.state ?? null;
  const running = !done && !(state && finalDirectiveStates.has(state));
  const exitCode = view?.exitCode ?? number(result, "exitCode", "exit_code") ?? null;
  const ended = describeEnd(
    state ?? (flag(result, "timedOut", "timed_out") ? "timed_out" : null),
    running ? null : exitCode,
  );
  const truncated =
    view?.truncated || flag(result, "truncated", "stdoutTruncated", "stderrTruncated", "output_truncated");

  const pane = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follows the output as it grows
  useLayoutEffect(() => {
    const el = pane.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [segments]);

  return (
    <div className="overflow-hidden rounded-lg border border-line bg-surface-2" data-directive-output>
      {command ? (
        <div className="border-b border-line px-2.5 py-1.5 font-mono text-xs break-words whitespace-pre-wrap text-fg">
          <span aria-hidden className="text-fg-subtle select-none">
            ${" "}
          </span>
          {command}
        </div>
      ) : null}
      <pre
        ref={pane}
        role="log"
        aria-live="off"
        aria-label="Output"
        tabIndex={-1}
        onScroll={(event) => {
          const el = event.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < PINNED_PX;
        }}
        className="max-h-80 overflow-auto px-2.5 py-2 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg"
      >
        {hidden || (view?.hiddenChars ?? 0) > 0 ? (
          <span className="block text-fg-subtle italic">… earlier output hidden</span>
        ) : null}
        {segments.map((segment, index) => (
          <span
            // Segments only grow at the end or lose lines at the start: the index is as stable as anything here.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            key={index}
            data-stream={segment.stream}
            className={segment.stream === "stderr" ? "text-danger-text" : undefined}
          >
            {plainText(segment.text)}
          </span>
        ))}
        {segments.length === 0 ? (
          <span className="text-fg-subtle">{running ? "Waiting for output…" : "No output"}</span>
        ) : null}
      </pre>
      {ended || truncated ? (
        <div className="flex flex-wrap gap-x-3 border-t border-line px-2.5 py-1 text-xs" data-directive-end>
          {ended ? (
            <span className={cn("font-medium", exitCode === 0 ? "text-success-text" : "text-danger-text")}>
              {ended}
            </span>
          ) : null}
          {truncated ? <span className="text-warning-text">Output truncated</span> : null}
        </div>
      ) : null}
    </div>
  );
}

/** What a finished call's result kept of its output: stdout then stderr, or its text when `plain` allows. */
function fallbackChunks(value: unknown, plain: boolean): OutputChunk[] {
  const result = fieldsOf(value);
  if (result) {
    const chunks: OutputChunk[] = [];
    const stdout = text(result, "stdout");
    const stderr = text(result, "stderr");
    if (stdout) chunks.push({ stream: "stdout", seq: 0, text: stdout });
    if (stderr) chunks.push({ stream: "stderr", seq: 0, text: stderr });
    if (chunks.length > 0 || !plain) return chunks;
    const output = text(result, "output");
    return output ? [{ stream: "stdout", seq: 0, text: output }] : [];
  }
  return plain && typeof value === "string" && value ? [{ stream: "stdout", seq: 0, text: value }] : [];
}
