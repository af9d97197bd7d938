import { DiffView } from "./DiffView";
import { diffOfEdit } from "./diff";
import { fieldsOf, flag, resultFields, text } from "./fields";
import type { ToolBodyProps } from "./index";
import { OutputPane } from "./OutputPane";

/**
 * edit_file, write_file and git_diff: the change as a diff. The tool's result carries it (`diff`); before that, an
 * edit or write shows what it asks for, from its arguments.
 */
export function DiffBody({ part, output }: ToolBodyProps) {
  const diff = diffOf(part);
  const truncated = flag(resultFields(part), "diff_truncated", "diffTruncated");
  return (
    <div className="space-y-2">
      {diff !== undefined ? <DiffView diff={diff} truncated={truncated} /> : null}
      {output && output.chunks.length > 0 ? <OutputPane part={part} view={output} /> : null}
    </div>
  );
}

export function diffOf(part: ToolBodyProps["part"]): string | undefined {
  const result = resultFields(part);
  const found = text(result, "diff");
  if (found !== undefined) return found;
  if (part.name === "git_diff") {
    // Its result may be the diff itself, as the model reads it.
    return typeof part.result === "string" && !result ? part.result : text(result, "stdout", "output");
  }
  const args = fieldsOf(part.args);
  const path = text(args, "path") ?? "file";
  if (part.name === "edit_file") {
    const before = text(args, "old_string");
    const after = text(args, "new_string");
    return before !== undefined && after !== undefined ? diffOfEdit(path, before, after) : undefined;
  }
  const content = text(args, "content");
  return content !== undefined ? diffOfEdit(path, "", content) : undefined;
}
