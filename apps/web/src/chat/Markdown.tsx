import { Check, ChevronDown, Copy } from "lucide-react";
import { type KeyboardEvent, type MouseEvent, memo, useEffect, useMemo, useRef, useState } from "react";
import { cn } from "../ui";
import {
  allBlocks,
  type Block,
  type BlockSplit,
  CODE_SEGMENT_LINES,
  type CodeSegments,
  emptySplit,
  loadRemoteImage,
  noSegments,
  renderInline,
  renderMarkdown,
  segmentCode,
  splitBlocks,
} from "./markdown";

/** Past this many blocks a reply shows only its latest ones, with a button for the rest (the DOM stays bounded). */
export const MAX_BLOCKS = 300;
/** Past this many lines a code block shows its first ones, with a button for the rest. */
export const MAX_CODE_LINES = 400;

/**
 * A reply's markdown, rendered block by block: finished blocks are memoized by their source, so while a reply
 * streams only its last block re-renders, whatever its length. `final` (the reply is complete) splits once more
 * from scratch, the cheap streaming checks aside.
 */
export function Markdown({ text, final = true, className }: { text: string; final?: boolean; className?: string }) {
  const cache = useRef<{ split: BlockSplit; final: boolean }>({ split: emptySplit, final: false });
  const blocks = useMemo(() => {
    const from = final && !cache.current.final ? emptySplit : cache.current.split;
    cache.current = { split: splitBlocks(text, from), final };
    return allBlocks(cache.current.split);
  }, [text, final]);
  const [showAll, setShowAll] = useState(false);
  const hidden = showAll ? 0 : Math.max(0, blocks.length - MAX_BLOCKS);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: delegation for the image placeholders inside, which are role=button
    <div className={cn("chat-markdown", className)} onClick={onImageClick} onKeyDown={onImageKey}>
      {hidden > 0 ? (
        <button
          type="button"
          onClick={() => setShowAll(true)}
          className="mb-3 inline-flex items-center gap-1 rounded-md border border-line px-2 py-1 text-xs text-fg-muted hover:bg-surface-2"
        >
          <ChevronDown aria-hidden className="size-3.5" />
          Show {hidden.toLocaleString()} earlier sections
        </button>
      ) : null}
      {groupParagraphs(blocks.slice(hidden)).map((group, index) =>
        "pieces" in group ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: blocks only grow at the end; the position is their identity
          <Paragraph key={index + hidden} {...group} />
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: blocks only grow at the end; the position is their identity
          <MarkdownBlock key={index + hidden} block={group} />
        ),
      )}
    </div>
  );
}

function remoteImagePlaceholder(target: EventTarget): HTMLElement | null {
  return target instanceof Element ? target.closest<HTMLElement>("[data-remote-image]") : null;
}

function onImageClick(event: MouseEvent) {
  const placeholder = remoteImagePlaceholder(event.target);
  if (placeholder) loadRemoteImage(placeholder);
}

function onImageKey(event: KeyboardEvent) {
  if (event.key !== "Enter" && event.key !== " ") return;
  const placeholder = remoteImagePlaceholder(event.target);
  if (!placeholder) return;
  event.preventDefault();
  loadRemoteImage(placeholder);
}

type ParagraphPiece = Extract<Block, { kind: "paragraph" }>;

/**
 * Past this many characters a paragraph goes on in a new <p>, flush with the one before (a line break, no gap):
 * the browser lays a paragraph's text out whole whenever a piece of it changes.
 */
export const MAX_PARAGRAPH_CHARS = 8_000;

/** Pieces of one paragraph shown as one <p>; `continued`/`continues`: the paragraph began before, goes on after. */
type ParagraphGroup = { pieces: ParagraphPiece[]; chars: number; continued: boolean; continues: boolean };

/** Blocks with each paragraph's pieces gathered, so a paragraph cut for streaming renders as one <p>. */
function groupParagraphs(blocks: readonly Block[]): (Block | ParagraphGroup)[] {
  const groups: (Block | ParagraphGroup)[] = [];
  for (const block of blocks) {
    const last = groups.at(-1);
    if (block.kind !== "paragraph") {
      groups.push(block);
    } else if (!block.first && last && "pieces" in last && last.chars < MAX_PARAGRAPH_CHARS) {
      last.pieces.push(block);
      last.chars += block.source.length;
    } else {
      const continued = !block.first && last !== undefined && "pieces" in last;
      if (continued) last.continues = true;
      groups.push({ pieces: [block], chars: block.source.length, continued, continues: false });
    }
  }
  return groups;
}

function Paragraph({ pieces, continued, continues }: ParagraphGroup) {
  return (
    <div className={cn("chat-block chat-html", continued && "chat-continued", continues && "chat-continues")}>
      <p>
        {pieces.map((piece, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: pieces only grow at the end; the position is their identity
          <InlinePiece key={index} source={piece.source} />
        ))}
      </p>
    </div>
  );
}

const InlinePiece = memo(function InlinePiece({ source }: { source: string }) {
  const html = useMemo(() => renderInline(source), [source]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by renderInline (DOMPurify), tested in markdown.test.ts
  return <span dangerouslySetInnerHTML={{ __html: html }} />;
});

const MarkdownBlock = memo(
  function MarkdownBlock({ block }: { block: Block }) {
    if (block.kind === "code") return <CodeBlock lang={block.lang} code={block.code} closed={block.closed} />;
    return <HtmlBlock source={block.source} />;
  },
  (a, b) => a.block.source === b.block.source,
);

function HtmlBlock({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by renderMarkdown (DOMPurify), tested in markdown.test.ts
  return <div className="chat-block chat-html" dangerouslySetInnerHTML={{ __html: html }} />;
}

/**
 * A fenced code block: language, Copy, long lines scrolled and long code collapsed. Only the growing last segment
 * re-renders while it streams; once the fence closes, the code shown is highlighted.
 */
export function CodeBlock({ lang, code, closed = true }: { lang: string; code: string; closed?: boolean }) {
  const [expanded, setExpanded] = useState(false);
  const cache = useRef<CodeSegments>(noSegments);
  const view = useMemo(() => {
    cache.current = segmentCode(code, cache.current);
    const { closed, openStart, openLines } = cache.current;
    const open = code.slice(openStart);
    const all = open ? [...closed, open] : closed;
    const total = closed.length * CODE_SEGMENT_LINES + openLines + (open && !open.endsWith("\n") ? 1 : 0);
    const limit = Math.ceil(MAX_CODE_LINES / CODE_SEGMENT_LINES);
    const shown = expanded ? all : all.slice(0, limit);
    return { shown, total, hidden: all.length > shown.length ? total - shown.length * CODE_SEGMENT_LINES : 0 };
  }, [code, expanded]);
  const highlighted = useHighlighted(closed ? view.shown.join("") : null, lang);
  return (
    <div className="chat-block my-3 overflow-hidden rounded-xl border border-line bg-surface-2">
      <div className="flex h-9 items-center justify-between gap-2 border-b border-line px-3 text-xs text-fg-subtle">
        <span className="font-mono">{lang || "text"}</span>
        <CopyButton text={code} label="Copy code" />
      </div>
      <pre className="overflow-x-auto p-3 text-[13px] leading-relaxed">
        {highlighted !== null ? (
          // biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the code; its markup is its own spans
          <code className="font-mono hljs" data-highlighted dangerouslySetInnerHTML={{ __html: highlighted }} />
        ) : (
          <code className="font-mono">
            {view.shown.map((segment, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: segments only grow at the end; the position is their identity
              <CodeSegment key={index} text={segment} />
            ))}
          </code>
        )}
      </pre>
      {view.hidden > 0 ? (
        <button
          type="button"
          onClick={() => setExpanded(true)}
          className="flex w-full items-center justify-center gap-1 border-t border-line py-2 text-xs text-fg-muted hover:bg-surface-3/60"
        >
          <ChevronDown aria-hidden className="size-3.5" />
          Show all {view.total.toLocaleString()} lines ({view.hidden.toLocaleString()} more)
        </button>
      ) : null}
    </div>
  );
}

/** Past this many characters code stays plain: highlighting it would hold the page up. */
const MAX_HIGHLIGHT_CHARS = 30_000;

/** The highlighted HTML of `code` once the highlighter's chunk has loaded; null while loading, or for plain code. */
function useHighlighted(code: string | null, lang: string): string | null {
  const [result, setResult] = useState<{ code: string; lang: string; html: string | null } | null>(null);
  const wanted = code !== null && lang !== "" && code.length <= MAX_HIGHLIGHT_CHARS;
  useEffect(() => {
    if (!wanted || code === null) return;
    let current = true;
    import("./highlight").then(
      ({ highlightCode }) => {
        if (current) setResult({ code, lang, html: highlightCode(code, lang) });
      },
      () => {
        // The chunk did not load (offline, a new deploy): the code stays plain.
      },
    );
    return () => {
      current = false;
    };
  }, [wanted, code, lang]);
  return wanted && result?.code === code && result.lang === lang ? result.html : null;
}

const CodeSegment = memo(function CodeSegment({ text }: { text: string }) {
  return <>{text}</>;
});

export function CopyButton({ text, label, className }: { text: string; label: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    let ok: boolean;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = fallbackCopy(text);
    }
    if (!ok) return;
    setCopied(true);
    window.setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button
      type="button"
      onClick={copy}
      aria-label={copied ? "Copied" : label}
      title={label}
      className={cn(
        "inline-flex items-center gap-1 rounded-md px-1.5 py-1 text-xs text-fg-muted hover:bg-surface-3/70 hover:text-fg",
        className,
      )}
    >
      {copied ? <Check aria-hidden className="size-3.5" /> : <Copy aria-hidden className="size-3.5" />}
      <span>{copied ? "Copied" : "Copy"}</span>
    </button>
  );
}

/** Clipboard API is missing on plain-http origins other than localhost. */
function fallbackCopy(text: string): boolean {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
