import DOMPurify from "dompurify";
import { Marked } from "marked";

/**
 * Markdown for replies: GFM through `marked`, then DOMPurify. Raw HTML in the source is shown as text (as chat
 * apps do), and the sanitizer still runs over the result: no scripts, no inline handlers, no javascript: URLs.
 * Remote images are never loaded by the page: they render as a placeholder the person clicks, and then come
 * through the server (`/api/remote-image`), since an image URL a model writes can carry data out.
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
    image: ({ href, text }) => imageHtml(href, text),
  },
});

const inlineImage = /^data:image\/(png|jpe?g|gif|webp|avif);/i;

/** An image in a reply: data: images inline, remote ones as a placeholder naming the host (see `loadRemoteImage`). */
function imageHtml(href: string, alt: string): string {
  if (inlineImage.test(href)) return `<img src="${escapeHtml(href)}" alt="${escapeHtml(alt)}">`;
  let url: URL | null = null;
  try {
    url = new URL(href);
  } catch {
    // A relative or malformed address: nothing to load.
  }
  const label = escapeHtml(alt.trim() || "Image");
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return `<span class="chat-image-placeholder">${label}</span>`;
  }
  const host = escapeHtml(url.host);
  return (
    `<span class="chat-image-placeholder" role="button" tabindex="0" data-remote-image="${escapeHtml(url.href)}" ` +
    `title="Load this image from ${host}"><span class="chat-image-alt">${label}</span>` +
    `<span class="chat-image-host">${host} · load image</span></span>`
  );
}

/** The address the page loads a remote image from: the server's guarded proxy, never the host itself. */
export function remoteImageSource(url: string): string {
  return `/api/remote-image?url=${encodeURIComponent(url)}`;
}

/** Replaces a remote image's placeholder with the image, fetched through the server. */
export function loadRemoteImage(placeholder: HTMLElement): void {
  const url = placeholder.dataset.remoteImage;
  if (!url) return;
  const image = document.createElement("img");
  image.alt = placeholder.querySelector(".chat-image-alt")?.textContent ?? "";
  image.src = remoteImageSource(url);
  image.addEventListener("error", () => {
    placeholder.removeAttribute("role");
    placeholder.removeAttribute("tabindex");
    placeholder.removeAttribute("data-remote-image");
    placeholder.querySelector(".chat-image-host")!.textContent = `${new URL(url).host} · could not load the image`;
    image.replaceWith(placeholder);
  });
  placeholder.replaceWith(image);
}

let purifier: ReturnType<typeof DOMPurify> | null = null;

function purify() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    // Only data: images and the server's proxy may load: anything else would let a reply call out from the page.
    if (node.tagName === "IMG") {
      const src = node.getAttribute("src") ?? "";
      if (!inlineImage.test(src) && !src.startsWith("/api/remote-image?")) node.removeAttribute("src");
      node.removeAttribute("srcset");
    }
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
  return purifier;
}

const sanitizeOptions = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style"],
  ADD_ATTR: ["target"],
};

/** Sanitized HTML for a piece of markdown. */
export function renderMarkdown(source: string): string {
  return purify().sanitize(marked.parse(source, { async: false }), sanitizeOptions);
}

/** Sanitized inline HTML for a piece of a paragraph's text (see the `paragraph` block). */
export function renderInline(source: string): string {
  return purify().sanitize(marked.parseInline(source, { async: false }), sanitizeOptions);
}

// ---------------------------------------------------------------------------------------------------------------
// Blocks

export type Block =
  | { kind: "markdown"; source: string }
  | { kind: "code"; source: string; lang: string; code: string; closed: boolean }
  /**
   * A piece of one long paragraph, cut at a line so a growing paragraph re-renders only its last piece. The
   * pieces of a paragraph (the first has `first`) render inside one <p>, exactly as the whole paragraph would.
   */
  | { kind: "paragraph"; source: string; first: boolean };

/**
 * Blocks found so far in a text that only grows while it streams: every block but the last is final (a blank
 * line, a closed fence or the size cap ended it), so a renderer keeps them and redoes only `tail`. The scan
 * resumes where it stopped, so each call costs the new text only, not the whole reply.
 */
export interface BlockSplit {
  /** The text these blocks were split from. */
  text: string;
  done: Block[];
  /** Where the unfinished tail starts in `text`. */
  tailStart: number;
  tail: Block | null;
  /** Scan state: the start of the first line not yet looked at, inside the tail. */
  scan: number;
  fence: { marker: string; lang: string; bodyStart: number } | null;
  lastWasBlank: boolean;
  lastWasTableRow: boolean;
  /** The tail continues a paragraph cut into pieces. */
  inParagraph: boolean;
  /** The last markdown token of a block past the size cap that is not a paragraph (list, table, …), once known. */
  longKind: string | null;
}

export const emptySplit: BlockSplit = {
  text: "",
  done: [],
  tailStart: 0,
  tail: null,
  scan: 0,
  fence: null,
  lastWasBlank: false,
  lastWasTableRow: false,
  inParagraph: false,
  longKind: null,
};

/**
 * A markdown block past this size ends at the next line where markdown itself starts a new block (a heading, a
 * rule, or a line that interrupts the paragraph), and a paragraph past it is cut into pieces at lines: a reply
 * that never leaves a blank line still re-renders only a small tail, and renders as the whole text would.
 */
export const MAX_BLOCK_CHARS = 4000;

const fenceOpen = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
/** Lines that end a paragraph without a blank line: headings, quotes, list items, rules, setext underlines, fences. */
const interruptsParagraph =
  /^ {0,3}(#{1,6}(\s|$)|>|[-+*]\s+\S|1[.)]\s+\S|[-=_*](\s*[-=_*]){2,}\s*$|=+\s*$|`{3,}|~{3,})/;
/** Lines that start a new block whatever came before (a list, a quote, a table): headings and rules. */
const startsBlockAnywhere = /^ {0,3}(#{1,6}(\s|$)|([-_*])(\s*\3){2,}\s*$)/;

/**
 * Whether `text` still begins with `previous`'s first `length` characters, judged by windows at both ends:
 * comparing whole strings costs O(n) on the rope strings that appends build, every frame. Callers split once
 * more from scratch when a reply completes, so a replacement that slipped past the windows is corrected.
 */
export function keepsPrefix(text: string, previous: string, length: number): boolean {
  if (length > text.length || length > previous.length) return false;
  const w = Math.min(64, length);
  return (
    text.slice(0, w) === previous.slice(0, w) && text.slice(length - w, length) === previous.slice(length - w, length)
  );
}

/** Splits `text`, resuming from `previous` when `text` extends it (the streaming case), else from scratch. */
export function splitBlocks(text: string, previous: BlockSplit = emptySplit): BlockSplit {
  const reuse = keepsPrefix(text, previous.text, previous.scan);
  const from = reuse ? previous : emptySplit;
  const done = reuse ? [...previous.done] : [];
  let start = from.tailStart;
  let position = from.scan;
  let fence = from.fence;
  let lastWasBlank = from.lastWasBlank;
  let lastWasTableRow = from.lastWasTableRow;
  let inParagraph = from.inParagraph;
  let longKind = from.longKind;

  const pushMarkdown = (end: number) => {
    const source = text.slice(start, end);
    if (source.trim() !== "") done.push({ kind: "markdown", source });
    start = end;
    longKind = null;
  };
  const pushParagraph = (end: number, first: boolean) => {
    if (end > start) done.push({ kind: "paragraph", source: text.slice(start, end), first });
    start = end;
  };
  /** A block past the cap, before `line`: end it where markdown would, or start cutting its paragraph. */
  const cutLongBlock = (line: string) => {
    if (/^\s/.test(line) || (lastWasTableRow && line.startsWith("|"))) return;
    if (longKind === null) {
      const last = marked.lexer(text.slice(start, position)).at(-1);
      if (last?.type === "paragraph" && !interruptsParagraph.test(line)) {
        pushMarkdown(position - last.raw.length);
        pushParagraph(position, true);
        inParagraph = true;
        return;
      }
      longKind = last?.type ?? "space";
    }
    const ends =
      longKind === "paragraph"
        ? interruptsParagraph.test(line)
        : longKind === "heading" || longKind === "hr" || longKind === "space" || startsBlockAnywhere.test(line);
    if (ends) pushMarkdown(position);
  };

  while (position < text.length) {
    const newline = text.indexOf("\n", position);
    if (newline === -1) break; // The last line may still grow: it belongs to the tail.
    const line = text.slice(position, newline);
    const next = newline + 1;
    if (fence) {
      if (isFenceClose(line, fence.marker)) {
        done.push({
          kind: "code",
          source: text.slice(start, next),
          lang: fence.lang,
          code: text.slice(fence.bodyStart, Math.max(fence.bodyStart, position - 1)),
          closed: true,
        });
        start = next;
        fence = null;
      }
      position = next;
      lastWasBlank = false;
      lastWasTableRow = false;
      continue;
    }
    const blank = line.trim() === "";
    if (inParagraph) {
      if (!blank && !interruptsParagraph.test(line)) {
        if (position - start > MAX_BLOCK_CHARS) pushParagraph(position, false);
        position = next;
        continue;
      }
      pushParagraph(position, false);
      inParagraph = false;
    }
    const open = fenceOpen.exec(line);
    if (open) {
      if (position > start) pushMarkdown(position);
      fence = { marker: open[1]!, lang: open[2] ?? "", bodyStart: next };
      position = next;
      lastWasBlank = false;
      lastWasTableRow = false;
      continue;
    }
    if (!blank && position > start) {
      if (lastWasBlank) {
        if (!/^\s/.test(line)) pushMarkdown(position);
      } else if (position - start > MAX_BLOCK_CHARS) {
        cutLongBlock(line);
      }
    }
    lastWasBlank = blank;
    lastWasTableRow = line.startsWith("|");
    position = next;
  }
  // The unfinished last line can still end the block before it: its first characters are already final.
  if (!fence && !inParagraph && lastWasBlank && position < text.length && position > start) {
    if (/^\S/.test(text[position]!)) pushMarkdown(position);
  }
  let tail: Block | null = null;
  if (fence) {
    // A last line of fence characters is the closing fence (complete, or still being typed), not code.
    const last = text.slice(position).trim();
    const closing = last !== "" && last[0] === fence.marker[0] && /^(`+|~+)$/.test(last);
    const end = closing ? position - 1 : text.endsWith("\n") ? text.length - 1 : text.length;
    tail = {
      kind: "code",
      source: text.slice(start),
      lang: fence.lang,
      code: text.slice(fence.bodyStart, Math.max(fence.bodyStart, end)),
      closed: closing && last.length >= fence.marker.length,
    };
  } else if (inParagraph) {
    if (text.length > start) tail = { kind: "paragraph", source: text.slice(start), first: false };
  } else if (text.slice(start).trim() !== "") {
    tail = { kind: "markdown", source: text.slice(start) };
  }
  return {
    text,
    done,
    tailStart: start,
    tail,
    scan: position,
    fence,
    lastWasBlank,
    lastWasTableRow,
    inParagraph,
    longKind,
  };
}

function isFenceClose(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed[0] === marker[0] && /^(`+|~+)$/.test(trimmed);
}

/** All blocks of a split, the tail last. */
export function allBlocks(split: BlockSplit): Block[] {
  return split.tail ? [...split.done, split.tail] : split.done;
}

// ---------------------------------------------------------------------------------------------------------------
// Code segments

/** Lines per segment of a code block; a streaming code block re-renders only its last segment. */
export const CODE_SEGMENT_LINES = 100;

/** Code cut into segments of whole lines; closed segments are final while the code grows (see `segmentCode`). */
export interface CodeSegments {
  code: string;
  /** Closed segments of CODE_SEGMENT_LINES lines each (with their newlines). */
  closed: string[];
  /** Where the open last segment starts. */
  openStart: number;
  /** Lines in the open segment so far. */
  openLines: number;
}

export const noSegments: CodeSegments = { code: "", closed: [], openStart: 0, openLines: 0 };

/** Segments `code`, resuming from `previous` when the code only grew: a streaming code block costs its new text. */
export function segmentCode(code: string, previous: CodeSegments = noSegments): CodeSegments {
  const reuse = keepsPrefix(code, previous.code, previous.openStart);
  const closed = reuse ? [...previous.closed] : [];
  let openStart = reuse ? previous.openStart : 0;
  let lines = 0;
  let position = openStart;
  for (;;) {
    const newline = code.indexOf("\n", position);
    if (newline === -1) break;
    lines++;
    position = newline + 1;
    if (lines === CODE_SEGMENT_LINES) {
      closed.push(code.slice(openStart, position));
      openStart = position;
      lines = 0;
    }
  }
  return { code, closed, openStart, openLines: lines };
}
