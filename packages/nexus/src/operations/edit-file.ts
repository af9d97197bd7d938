import fs from "node:fs/promises";
import type { EditFileResult, editFileOperation } from "@cybros/protocol";
import type { z } from "zod";
import { type Facility, OperationError, readTextFile, resolveInFacility } from "./confine.js";

const MAX_LISTED_LINES = 20;
const MAX_DIFF_CHARS = 64 * 1024;
const CONTEXT_LINES = 3;

/**
 * Replaces `old_string` with `new_string`, exactly. It must occur once, or `replace_all` must be set; zero or
 * several matches is an error that says how many and where. A file with CRLF line ends matches an old_string
 * written with `\n`.
 */
export async function editFile(
  operation: z.infer<typeof editFileOperation>,
  facility: Facility,
): Promise<EditFileResult> {
  const file = resolveInFacility(facility, operation.path);
  if (operation.old_string === operation.new_string) {
    throw new OperationError("old_string and new_string are the same; there is nothing to change");
  }
  const before = await readTextFile(file, operation.path);
  let { old_string: oldText, new_string: newText } = operation;
  let found = occurrences(before, oldText);
  if (found.length === 0 && before.includes("\r\n") && oldText.includes("\n") && !oldText.includes("\r")) {
    oldText = oldText.replaceAll("\n", "\r\n");
    newText = newText.replaceAll("\n", "\r\n");
    found = occurrences(before, oldText);
  }
  if (found.length === 0) throw new OperationError(`old_string was not found in ${operation.path}`);
  if (found.length > 1 && !operation.replace_all) {
    const lineOf = lineFinder(before);
    const lines = found.slice(0, MAX_LISTED_LINES).map(lineOf);
    throw new OperationError(
      `old_string occurs ${found.length} times in ${operation.path} (at lines ${lines.join(", ")}${found.length > lines.length ? ", …" : ""}); ` +
        "include more of the surrounding text to pick one, or set replace_all to replace every one",
    );
  }
  const after = before.split(oldText).join(newText);
  await fs.writeFile(file.real, after);
  const shift = newText.length - oldText.length;
  const diff = unifiedDiff(file.relative, before, oldText, newText, found);
  const lineAfter = lineFinder(after);
  return {
    op: "edit_file",
    path: file.relative,
    replacements: found.length,
    lines: found.slice(0, MAX_LISTED_LINES).map((index, nth) => lineAfter(index + nth * shift)),
    diff: diff.length > MAX_DIFF_CHARS ? diff.slice(0, MAX_DIFF_CHARS) : diff,
    diff_truncated: diff.length > MAX_DIFF_CHARS,
  };
}

/** Where `needle` starts in `text`, without overlaps (as `split` replaces). */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + needle.length)) {
    found.push(index);
  }
  return found;
}

/** For `text`, the 1-based line the character at an index is on. */
function lineFinder(text: string): (index: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (index) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= index) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
}

function lines(text: string): string[] {
  const split = text.split("\n");
  if (split.at(-1) === "") split.pop();
  return split;
}

/**
 * A unified diff of replacing the occurrences at `found`: each replacement widened to whole lines, the ones that
 * touch the same lines merged, then hunks with three lines of context around them.
 */
function unifiedDiff(name: string, before: string, oldText: string, newText: string, found: number[]): string {
  // Changed regions in whole lines of the original: [start, end) character offsets.
  const regions: { start: number; end: number }[] = [];
  for (const index of found) {
    const start = before.lastIndexOf("\n", index - 1) + 1;
    const stop = index + oldText.length;
    const newline = oldText.endsWith("\n") ? stop - 1 : before.indexOf("\n", stop);
    const end = newline === -1 ? before.length : newline + 1;
    const last = regions.at(-1);
    if (last && start < last.end) last.end = Math.max(last.end, end);
    else regions.push({ start, end });
  }
  const original = lines(before);
  const lineOf = lineFinder(before);
  const changes = regions.map(({ start, end }) => {
    const region = before.slice(start, end);
    return {
      from: lineOf(start) - 1,
      removed: lines(region),
      added: lines(region.split(oldText).join(newText)),
    };
  });

  const out = [`--- a/${name}`, `+++ b/${name}`];
  let delta = 0;
  for (let first = 0; first < changes.length; ) {
    // Changes whose context would touch go into one hunk.
    let last = first;
    while (
      last + 1 < changes.length &&
      changes[last + 1]!.from - (changes[last]!.from + changes[last]!.removed.length) <= 2 * CONTEXT_LINES
    ) {
      last++;
    }
    const hunkStart = Math.max(0, changes[first]!.from - CONTEXT_LINES);
    const tail = changes[last]!.from + changes[last]!.removed.length;
    const hunkEnd = Math.min(original.length, tail + CONTEXT_LINES);
    const body: string[] = [];
    let cursor = hunkStart;
    let added = 0;
    for (const change of changes.slice(first, last + 1)) {
      for (; cursor < change.from; cursor++) body.push(` ${original[cursor]}`);
      body.push(...change.removed.map((line) => `-${line}`), ...change.added.map((line) => `+${line}`));
      cursor += change.removed.length;
      added += change.added.length - change.removed.length;
    }
    for (; cursor < hunkEnd; cursor++) body.push(` ${original[cursor]}`);
    const oldCount = hunkEnd - hunkStart;
    const newCount = oldCount + added;
    out.push(`@@ -${range(hunkStart, oldCount)} +${range(hunkStart + delta, newCount)} @@`, ...body);
    delta += added;
    first = last + 1;
  }
  return `${out.join("\n")}\n`;
}

/** A hunk header's range: an empty one names the line before it, as diff does. */
function range(start: number, count: number): string {
  return `${count === 0 ? start : start + 1},${count}`;
}
