import type { ToolPart } from "../reconciler";
import { fieldsOf, number, resultFields, text } from "./fields";
import type { ToolBodyProps } from "./index";

/** read_file: which file and which of its lines, then the lines themselves. */
export function ReadFileBody({ part }: ToolBodyProps) {
  const result = resultFields(part);
  const content = text(result, "content") ?? (typeof part.result === "string" ? part.result : undefined);
  return (
    <div className="space-y-2">
      <p className="text-xs text-fg-muted" data-read-range>
        {readRange(part) ?? "Reading…"}
      </p>
      {content !== undefined ? (
        <pre className="max-h-80 overflow-auto rounded-lg bg-surface-2 p-2.5 font-mono text-xs leading-relaxed whitespace-pre text-fg">
          {content || "(empty)"}
        </pre>
      ) : null}
    </div>
  );
}

/** "src/a.ts lines 1–40 of 120", from the result, else from the arguments while it runs. */
export function readRange(part: ToolPart): string | undefined {
  const args = fieldsOf(part.args);
  const result = resultFields(part);
  const path = text(result, "path") ?? text(args, "path");
  if (!path) return undefined;
  const start = number(result, "start_line", "startLine") ?? number(args, "offset") ?? 1;
  const end = number(result, "end_line", "endLine");
  const total = number(result, "total_lines", "totalLines");
  if (end === undefined) {
    const limit = number(args, "limit");
    return limit ? `${path} lines ${start}–${start + limit - 1}` : path;
  }
  if (end < start) return total !== undefined ? `${path}: no lines (it has ${total})` : path;
  return `${path} lines ${start}–${end}${total !== undefined ? ` of ${total}` : ""}`;
}
