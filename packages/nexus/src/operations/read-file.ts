import {
  READ_FILE_DEFAULT_LIMIT,
  READ_FILE_MAX_LINE_CHARS,
  type ReadFileResult,
  type readFileOperation,
} from "@cybros/protocol";
import type { z } from "zod";
import { type Facility, OperationError, readTextFile, resolveInFacility, splitLines } from "./confine.js";

/** A result's text stays well under the Conduits body limit. */
const MAX_CONTENT_CHARS = 256 * 1024;

/** Lines of a text file, numbered as `cat -n` does, from `offset` (1-based) for at most `limit` lines. */
export async function readFile(
  operation: z.infer<typeof readFileOperation>,
  facility: Facility,
): Promise<ReadFileResult> {
  const file = resolveInFacility(facility, operation.path);
  const lines = splitLines(await readTextFile(file, operation.path));
  const start = operation.offset ?? 1;
  if (start > Math.max(lines.length, 1)) {
    throw new OperationError(`offset ${start} is past the end of ${operation.path} (${lines.length} lines)`);
  }
  const wanted = lines.slice(start - 1, start - 1 + (operation.limit ?? READ_FILE_DEFAULT_LIMIT));
  const numbered: string[] = [];
  let size = 0;
  let cut = false;
  for (const [index, line] of wanted.entries()) {
    const shown =
      line.length > READ_FILE_MAX_LINE_CHARS ? `${line.slice(0, READ_FILE_MAX_LINE_CHARS)}… [line cut]` : line;
    const entry = `${String(start + index).padStart(6)}\t${shown}`;
    if (size + entry.length + 1 > MAX_CONTENT_CHARS && numbered.length > 0) break;
    cut ||= shown !== line;
    numbered.push(entry);
    size += entry.length + 1;
  }
  const end = start + numbered.length - 1;
  return {
    op: "read_file",
    path: file.relative,
    content: numbered.join("\n"),
    start_line: start,
    end_line: end,
    total_lines: lines.length,
    truncated: cut || end < lines.length,
  };
}
