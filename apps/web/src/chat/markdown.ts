import DOMPurify from "dompurify";
import { Marked } from "marked";

/**
 * Markdown for replies: GFM through `marked`, then DOMPurify. Raw HTML in the source is shown as text (as chat
 * apps do), and the sanitizer still runs over the result: no scripts, no inline handlers, no javascript: URLs.
 * Long replies are split into blocks so a streaming reply re-renders only its growing tail.
 */

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
  },
});

let purifier: ReturnType<typeof DOMPurify> | null = null;

function purify() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
  return purifier;
}

/** Sanitized HTML for a piece of markdown. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false });
  return purify().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style"],
    ADD_ATTR: ["target"],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Blocks

export type Block =
  | { kind: "markdown"; source: string }
  | { kind: "code"; source: string; lang: string; code: string; closed: boolean };

/**
 * Blocks found so far in a text that only grows while it streams: every block but the last is final (a blank
 * line or a closed fence ended it), so a renderer keeps them and redoes only `tail`.
 */
export interface BlockSplit {
  /** The text these blocks were split from. */
  text: string;
  done: Block[];
  /** Where the unfinished tail starts in `text`. */
  tailStart: number;
  tail: Block | null;
}

export const emptySplit: BlockSplit = { text: "", done: [], tailStart: 0, tail: null };

const fenceOpen = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;

/** Splits `text`, reusing `previous` when `text` extends it (the streaming case), else from scratch. */
export function splitBlocks(text: string, previous: BlockSplit = emptySplit): BlockSplit {
  const reuse = previous.text.length <= text.length && text.startsWith(previous.text.slice(0, previous.tailStart));
  const done = reuse ? [...previous.done] : [];
  let start = reuse ? previous.tailStart : 0;
  let position = start;
  let fence: { marker: string; lang: string; bodyStart: number } | null = null;
  let lastWasBlank = false;

  const push = (end: number) => {
    const source = text.slice(start, end);
    if (source.trim() !== "") done.push(toBlock(source));
    start = end;
  };

  while (position < text.length) {
    const newline = text.indexOf("\n", position);
    if (newline === -1) break; // The last line may still grow: it belongs to the tail.
    const line = text.slice(position, newline);
    const next = newline + 1;
    if (fence) {
      if (isFenceClose(line, fence.marker)) {
        push(next);
        fence = null;
      }
      position = next;
      lastWasBlank = false;
      continue;
    }
    const open = fenceOpen.exec(line);
    if (open) {
      if (position > start) push(position);
      fence = { marker: open[1]!, lang: open[2] ?? "", bodyStart: next };
      position = next;
      lastWasBlank = false;
      continue;
    }
    const blank = line.trim() === "";
    if (!blank && lastWasBlank && !/^\s/.test(line)) {
      // A blank line ended the block, unless this line is indented (a list item's continuation).
      push(position);
    }
    lastWasBlank = blank;
    position = next;
  }
  // The unfinished last line can still end the block before it: its first characters are already final.
  if (!fence && lastWasBlank && position < text.length && /^\S/.test(text.slice(position, position + 1))) {
    push(position);
  }
  const rest = text.slice(start);
  return { text, done, tailStart: start, tail: rest.trim() === "" ? null : toBlock(rest) };
}

function isFenceClose(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed[0] === marker[0] && /^(`+|~+)$/.test(trimmed);
}

function toBlock(source: string): Block {
  const lines = source.replace(/\n+$/, "").split("\n");
  const open = fenceOpen.exec(lines[0] ?? "");
  if (!open) return { kind: "markdown", source };
  const marker = open[1]!;
  const closed = lines.length > 1 && isFenceClose(lines.at(-1)!, marker);
  const body = lines.slice(1, closed ? -1 : undefined);
  return { kind: "code", source, lang: open[2] ?? "", code: body.join("\n"), closed };
}

/** All blocks of a split, the tail last. */
export function allBlocks(split: BlockSplit): Block[] {
  return split.tail ? [...split.done, split.tail] : split.done;
}
