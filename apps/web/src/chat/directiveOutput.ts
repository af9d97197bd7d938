import type { DirectiveOutput, DirectiveState, OutputStream } from "@cybros/protocol";

/**
 * What a directive printed, as its tool card shows it: chunks of stdout and stderr in arrival order, each stream
 * appended by its own seq (so replays and overlaps add nothing), merged with `GET /api/directives/:id/output`
 * when a card opens mid-run. Pure functions; the reconciler holds one per tool call (its task node).
 */

export interface OutputChunk {
  stream: OutputStream;
  seq: number;
  text: string;
}

export interface DirectiveView {
  directiveId: string;
  chunks: readonly OutputChunk[];
  /** The highest seq held per stream; -1 before the first chunk (seqs start at 0). */
  lastSeq: Readonly<Record<OutputStream, number>>;
  /** Characters dropped from the start to keep the page's memory bounded. */
  hiddenChars: number;
  state: DirectiveState | null;
  exitCode: number | null;
  /** The server's output cap cut the output. */
  truncated: boolean;
}

/** Held per card; the DOM shows fewer lines still (see `visibleOutput`). */
export const HELD_CHARS = 400_000;
export const SHOWN_LINES = 2_000;

export const finalDirectiveStates: ReadonlySet<DirectiveState> = new Set([
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
]);

export function emptyDirectiveView(directiveId: string): DirectiveView {
  return {
    directiveId,
    chunks: [],
    lastSeq: { stdout: -1, stderr: -1 },
    hiddenChars: 0,
    state: null,
    exitCode: null,
    truncated: false,
  };
}

/** A chunk from a `directive_output` event; one at or below its stream's last seq is already held. */
export function appendOutput(view: DirectiveView, chunk: OutputChunk): DirectiveView {
  if (chunk.seq <= view.lastSeq[chunk.stream]) return view;
  const lastSeq = { ...view.lastSeq, [chunk.stream]: chunk.seq };
  if (chunk.text === "") return { ...view, lastSeq };
  return capped({ ...view, lastSeq, chunks: [...view.chunks, chunk] });
}

/**
 * The output fetched for a card opened mid-run: it holds each stream up to its seq, so it replaces the chunks
 * at or below those seqs; chunks that arrived beyond them stay after it. The two streams come back apart, so
 * the fetched part shows stdout, then stderr.
 */
export function mergeFetchedOutput(view: DirectiveView, fetched: DirectiveOutput): DirectiveView {
  const head: OutputChunk[] = [];
  if (fetched.stdout) head.push({ stream: "stdout", seq: fetched.stdoutSeq, text: fetched.stdout });
  if (fetched.stderr) head.push({ stream: "stderr", seq: fetched.stderrSeq, text: fetched.stderr });
  const seqOf = { stdout: fetched.stdoutSeq, stderr: fetched.stderrSeq };
  const rest = view.chunks.filter((c) => c.seq > seqOf[c.stream]);
  const final = view.state !== null && finalDirectiveStates.has(view.state);
  return capped({
    ...view,
    chunks: [...head, ...rest],
    lastSeq: {
      stdout: Math.max(view.lastSeq.stdout, fetched.stdoutSeq),
      stderr: Math.max(view.lastSeq.stderr, fetched.stderrSeq),
    },
    // What was dropped before is now part of the fetched text.
    hiddenChars: 0,
    state: final ? view.state : fetched.state,
    exitCode: view.exitCode ?? fetched.exitCode,
    truncated: view.truncated || fetched.truncated,
  });
}

export function setDirectiveState(
  view: DirectiveView,
  update: { state: DirectiveState; exitCode: number | null; outputTruncated: boolean },
): DirectiveView {
  // A final state stays (a late `running` never revives it).
  if (view.state !== null && finalDirectiveStates.has(view.state) && !finalDirectiveStates.has(update.state)) {
    return view;
  }
  return {
    ...view,
    state: update.state,
    exitCode: update.exitCode ?? view.exitCode,
    truncated: view.truncated || update.outputTruncated,
  };
}

function capped(view: DirectiveView): DirectiveView {
  let total = 0;
  for (const chunk of view.chunks) total += chunk.text.length;
  if (total <= HELD_CHARS) return view;
  const chunks = [...view.chunks];
  let hidden = view.hiddenChars;
  while (total > HELD_CHARS && chunks.length > 0) {
    const first = chunks[0]!;
    const over = total - HELD_CHARS;
    if (first.text.length <= over) {
      chunks.shift();
      total -= first.text.length;
      hidden += first.text.length;
    } else {
      chunks[0] = { ...first, text: first.text.slice(over) };
      total -= over;
      hidden += over;
    }
  }
  return { ...view, chunks, hiddenChars: hidden };
}

export interface OutputSegment {
  stream: OutputStream;
  text: string;
}

/**
 * The last `maxLines` lines of the chunks, as runs of one stream each (adjacent chunks of a stream joined), and
 * whether earlier output is left out.
 */
export function visibleOutput(
  chunks: readonly OutputChunk[],
  maxLines = SHOWN_LINES,
): { segments: OutputSegment[]; hidden: boolean } {
  const picked: OutputSegment[] = [];
  let lines = 0;
  let hidden = false;
  for (let i = chunks.length - 1; i >= 0; i--) {
    const chunk = chunks[i]!;
    let text = chunk.text;
    // A trailing newline ends the last line rather than starting an empty one.
    let cut = text.length - (i === chunks.length - 1 && text.endsWith("\n") ? 1 : 0);
    let start = -1;
    while (cut > 0) {
      const at = text.lastIndexOf("\n", cut - 1);
      if (at === -1) break;
      lines++;
      if (lines >= maxLines) {
        start = at + 1;
        break;
      }
      cut = at;
    }
    if (start !== -1) {
      text = text.slice(start);
      hidden = true;
    }
    const previous = picked[picked.length - 1];
    if (previous && previous.stream === chunk.stream) previous.text = text + previous.text;
    else picked.push({ stream: chunk.stream, text });
    if (hidden) break;
  }
  return { segments: picked.reverse().filter((s) => s.text !== ""), hidden };
}

// Colour and cursor codes (ESC [ … letter) and OSC titles (ESC ] … BEL): the pane shows text, not a terminal's paint.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what it removes
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export function plainText(text: string): string {
  return text.replace(ANSI, "").replace(/\r\n/g, "\n");
}

/** How the directive ended, in a few words; null while it runs. */
export function describeEnd(state: DirectiveState | null, exitCode: number | null): string | null {
  if (state === "timed_out") return "Timed out";
  if (state === "canceled") return "Canceled";
  if (exitCode !== null) return `Exit code ${exitCode}`;
  if (state === "failed") return "Failed";
  return null;
}
