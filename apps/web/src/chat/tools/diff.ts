/**
 * A unified diff (git's, or one made from an edit's old and new text) read into files, hunks and numbered lines
 * for the diff view. Lines it does not understand are kept as "meta" rather than dropped.
 */

export type DiffLineKind = "add" | "del" | "context" | "meta";

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  /** The new path, or the old one for a deleted file; null when the diff names none. */
  path: string | null;
  /** Headers before the first hunk that say something (new file, deleted, renamed, binary). */
  notes: string[];
  hunks: DiffHunk[];
  added: number;
  removed: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: DiffHunk | null = null;
  // Lines the hunk header says are still to come: a hunk ends by its counts, so `--- x` inside one is a line.
  let oldLeft = 0;
  let newLeft = 0;
  let oldNo = 0;
  let newNo = 0;
  const startFile = (path: string | null): DiffFile => {
    file = { path, notes: [], hunks: [], added: 0, removed: 0 };
    files.push(file);
    return file;
  };
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    if (hunk && file && (oldLeft > 0 || newLeft > 0)) {
      const f: DiffFile = file;
      const sign = line[0];
      if (sign === "+") {
        hunk.lines.push({ kind: "add", text: line.slice(1), oldNo: null, newNo: newNo++ });
        f.added++;
        newLeft--;
      } else if (sign === "-") {
        hunk.lines.push({ kind: "del", text: line.slice(1), oldNo: oldNo++, newNo: null });
        f.removed++;
        oldLeft--;
      } else if (sign === "\\") {
        hunk.lines.push({ kind: "meta", text: line, oldNo: null, newNo: null });
      } else {
        hunk.lines.push({ kind: "context", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    if (hunk && line.startsWith("\\")) {
      // "\ No newline at end of file" after a hunk's last line.
      hunk.lines.push({ kind: "meta", text: line, oldNo: null, newNo: null });
      continue;
    }
    hunk = null;
    const match = HUNK.exec(line);
    if (match) {
      hunk = { header: line, lines: [] };
      (file ?? startFile(null)).hunks.push(hunk);
      oldNo = Number(match[1]);
      newNo = Number(match[3]);
      oldLeft = match[2] === undefined ? 1 : Number(match[2]);
      newLeft = match[4] === undefined ? 1 : Number(match[4]);
      continue;
    }
    const current = file as DiffFile | null;
    if (line.startsWith("diff --git ")) {
      startFile(/ b\/(.+)$/.exec(line)?.[1] ?? null);
    } else if (line.startsWith("--- ")) {
      // Without `diff --git` lines (a plain `diff -u`), each `---` after a file's hunks starts the next file.
      const target = current && current.hunks.length === 0 ? current : startFile(null);
      target.path ??= stripPrefix(line.slice(4));
    } else if (line.startsWith("+++ ")) {
      const target = current ?? startFile(null);
      target.path = stripPrefix(line.slice(4)) ?? target.path;
    } else if (current && /^(new file|deleted file|rename |Binary files)/.test(line)) {
      current.notes.push(line);
    }
  }
  return files;
}

function stripPrefix(path: string): string | null {
  const clean = path.split("\t")[0]!.trim();
  if (clean === "/dev/null") return null;
  return clean.replace(/^[ab]\//, "");
}

/** A one-hunk diff of an edit from its old and new text (before the tool's own diff is known). */
export function diffOfEdit(path: string, before: string, after: string): string {
  const old = before === "" ? [] : before.split("\n");
  const next = after === "" ? [] : after.split("\n");
  const body = [...old.map((l) => `-${l}`), ...next.map((l) => `+${l}`)];
  return [`--- a/${path}`, `+++ b/${path}`, `@@ -1,${old.length} +1,${next.length} @@`, ...body].join("\n");
}

export function diffStats(files: readonly DiffFile[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const file of files) {
    added += file.added;
    removed += file.removed;
  }
  return { added, removed };
}
