import { useMemo, useState } from "react";
import { type DiffLine, parseUnifiedDiff } from "./diff";

/** Lines drawn before "Show all": a large diff stays one click away instead of freezing the page. */
const SHOWN_LINES = 600;

const lineClass: Record<DiffLine["kind"], string> = {
  add: "bg-success-soft text-success-text",
  del: "bg-danger-soft text-danger-text",
  context: "text-fg",
  meta: "text-fg-subtle italic",
};
const sign: Record<DiffLine["kind"], string> = { add: "+", del: "-", context: " ", meta: "" };

/** A unified diff, file by file: added and removed lines coloured, both line numbers, hunk headers between. */
export function DiffView({ diff, truncated = false }: { diff: string; truncated?: boolean }) {
  const files = useMemo(() => parseUnifiedDiff(diff), [diff]);
  const [all, setAll] = useState(false);
  if (files.length === 0) {
    return (
      <pre className="max-h-80 overflow-auto rounded-lg bg-surface-2 p-2.5 font-mono text-xs whitespace-pre-wrap text-fg">
        {diff || "No changes"}
      </pre>
    );
  }
  let budget = all ? Number.POSITIVE_INFINITY : SHOWN_LINES;
  let total = 0;
  for (const file of files) for (const hunk of file.hunks) total += hunk.lines.length + 1;
  return (
    <div className="space-y-2" data-diff>
      {files.map((file, f) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a diff's files keep their order
        <div key={f} className="overflow-hidden rounded-lg border border-line">
          <div className="flex items-center gap-2 border-b border-line bg-surface-2 px-2.5 py-1.5 text-xs">
            <span className="min-w-0 flex-1 truncate font-mono text-fg" title={file.path ?? undefined}>
              {file.path ?? "(unnamed file)"}
            </span>
            {file.notes.length > 0 ? <span className="shrink-0 text-fg-subtle">{noteOf(file.notes)}</span> : null}
            <span className="shrink-0 font-mono text-success-text">+{file.added}</span>
            <span className="shrink-0 font-mono text-danger-text">−{file.removed}</span>
          </div>
          <div className="max-h-96 overflow-auto">
            <table className="w-full border-collapse font-mono text-xs leading-5">
              <tbody>
                {file.hunks.map((hunk, h) => {
                  if (budget <= 0) return null;
                  const lines = hunk.lines.slice(0, Math.max(0, budget - 1));
                  budget -= lines.length + 1;
                  return [
                    // biome-ignore lint/suspicious/noArrayIndexKey: hunks of a fixed diff
                    <tr key={`h${h}`} className="bg-accent-soft/60 text-accent-text">
                      <td colSpan={3} className="px-2.5 py-0.5 whitespace-pre">
                        {hunk.header}
                      </td>
                    </tr>,
                    ...lines.map((line, i) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed hunk
                      <tr key={`${h}:${i}`} className={lineClass[line.kind]} data-diff-line={line.kind}>
                        <td className="w-px px-1.5 text-right align-top text-fg-subtle select-none">
                          {line.oldNo ?? ""}
                        </td>
                        <td className="w-px px-1.5 text-right align-top text-fg-subtle select-none">
                          {line.newNo ?? ""}
                        </td>
                        <td className="pr-2.5 whitespace-pre">
                          <span aria-hidden className="select-none">
                            {sign[line.kind]}
                          </span>
                          {line.text}
                        </td>
                      </tr>
                    )),
                  ];
                })}
              </tbody>
            </table>
          </div>
        </div>
      ))}
      {!all && total > SHOWN_LINES ? (
        <button type="button" onClick={() => setAll(true)} className="text-xs text-accent-text hover:underline">
          Show all {total.toLocaleString()} lines
        </button>
      ) : null}
      {truncated ? <p className="text-xs text-warning-text">The diff was cut; the rest is not shown.</p> : null}
    </div>
  );
}

function noteOf(notes: readonly string[]): string {
  const note = notes[0]!;
  if (note.startsWith("new file")) return "new";
  if (note.startsWith("deleted file")) return "deleted";
  if (note.startsWith("rename")) return "renamed";
  if (note.startsWith("Binary")) return "binary";
  return "";
}
