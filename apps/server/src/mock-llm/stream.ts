import type { SseSink } from "../http/sse.js";
import type { FinishReason, PlannedReply, PlannedToolCall } from "./replies.js";
import { firstChunkPause, type MockStep } from "./steps.js";

/** How a streamed reply ended, as the mock saw it. */
export type StreamOutcome = "completed" | "client_closed" | "disconnected";

export interface UsageBody {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

export function usageBody(promptTokens: number, cachedTokens: number, completionTokens: number): UsageBody {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export interface StreamPlan {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
  reply: (PlannedReply & { kind: "message" }) | { kind: "hang" };
  step: MockStep;
  /** Usage for the final chunk, given the characters of output actually produced. */
  usage(outputChars: number): UsageBody;
  /** Called once per reply chunk sent (content or tool-call fragment). */
  onReplyChunk(): void;
  onEnd(outcome: StreamOutcome): void;
}

export const DEFAULT_TEXT_CHUNK = 16;
export const DEFAULT_ARGUMENT_CHUNK = 8;

/**
 * Writes a completion in OpenAI's exact order: a role chunk, reply chunks, a final chunk with finish_reason,
 * the usage chunk when asked for, then `data: [DONE]`. Per chunk: one string concatenation and one write;
 * timestamps for benchmarks are taken as each chunk is written.
 */
export async function writeCompletionStream(plan: StreamPlan, sink: SseSink): Promise<void> {
  const { step, reply } = plan;
  const signal = sink.closed;
  let outcome: StreamOutcome | undefined;
  const finish = (value: StreamOutcome) => {
    if (outcome) return;
    outcome = value;
    plan.onEnd(value);
  };
  signal.addEventListener("abort", () => finish("client_closed"), { once: true });
  const pause = pacer(signal);

  const head = `data: {"id":"${plan.id}","object":"chat.completion.chunk","created":${plan.created},"model":${JSON.stringify(plan.model)},"system_fingerprint":"fp_mock","choices":[{"index":0,"delta":`;
  const tail = plan.includeUsage ? `}],"usage":null}\n\n` : "}]}\n\n";
  const frame = (delta: string, reason: FinishReason | null = null) =>
    `${head}${delta},"logprobs":null,"finish_reason":${reason ? `"${reason}"` : "null"}${tail}`;
  const cut = () => {
    finish("disconnected");
    sink.cut();
  };

  const firstPause = firstChunkPause(step);
  if (firstPause > 0) await pause(firstPause);
  if (reply.kind === "hang") return pause(Number.POSITIVE_INFINITY);
  if (signal.aborted) return;
  await sink.write(frame('{"role":"assistant","content":""}'));

  let sent = 0;
  let outputChars = 0;
  for (const piece of replyPieces(reply, step)) {
    if (sent === step.stall_after) return pause(Number.POSITIVE_INFINITY);
    if (sent === step.disconnect_after) return cut();
    if (sent > 0 && step.delay) await pause(step.delay);
    if (signal.aborted) return;
    sent++;
    plan.onReplyChunk();
    if (sent === step.malformed_at) {
      await sink.write(`${head}{"content":\n\n`);
      continue;
    }
    const delta = piece.stamp ? stampDelta() : piece.delta;
    // A stamp's text is its delta minus the 14 characters of `{"content":"` and `"}`.
    outputChars += piece.stamp ? delta.length - 14 : piece.chars;
    await sink.write(frame(delta));
  }
  if (sent === step.stall_after) return pause(Number.POSITIVE_INFINITY);
  if (sent === step.disconnect_after) return cut();
  if (signal.aborted) return;
  await sink.write(frame("{}", reply.finishReason));
  if (plan.includeUsage) {
    const usage = JSON.stringify(plan.usage(outputChars));
    await sink.write(
      `data: {"id":"${plan.id}","object":"chat.completion.chunk","created":${plan.created},"model":${JSON.stringify(plan.model)},"system_fingerprint":"fp_mock","choices":[],"usage":${usage}}\n\n`,
    );
  }
  await sink.write("data: [DONE]\n\n");
  finish("completed");
  sink.end();
}

interface Piece {
  delta: string;
  chars: number;
  stamp?: true;
}

/** Send time in epoch milliseconds with microsecond decimals, comparable across processes on one machine. */
function stampDelta(): string {
  return `{"content":"[t=${(performance.timeOrigin + performance.now()).toFixed(3)}] "}`;
}

function* replyPieces(reply: PlannedReply & { kind: "message" }, step: MockStep): Generator<Piece> {
  for (let i = 0; i < reply.stamps; i++) yield { delta: "", chars: 0, stamp: true };
  const textSize = step.chunk_size ?? DEFAULT_TEXT_CHUNK;
  // Exact chunks as scripted, unless max_tokens cut the reply short.
  const pieces = step.chunks?.join("") === reply.content ? step.chunks : slices(reply.content, textSize);
  for (const slice of pieces) {
    yield { delta: `{"content":${JSON.stringify(slice)}}`, chars: slice.length };
  }
  yield* toolCallPieces(reply.toolCalls, step.chunk_size ?? DEFAULT_ARGUMENT_CHUNK, reply.interleave);
}

/**
 * Tool calls as OpenAI streams them: a head per call (index, id, name, empty arguments), then argument
 * fragments keyed only by index. Interleaving sends the calls' fragments in turn, which a client must
 * still assemble by index.
 */
function* toolCallPieces(calls: PlannedToolCall[], size: number, interleave: boolean): Generator<Piece> {
  const head = (call: PlannedToolCall, index: number): Piece => ({
    delta: `{"tool_calls":[{"index":${index},"id":${JSON.stringify(call.id)},"type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}]}`,
    chars: call.name.length,
  });
  const fragment = (index: number, text: string): Piece => ({
    delta: `{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(text)}}}]}`,
    chars: text.length,
  });
  const fragments = calls.map((call) => slices(call.arguments, size));
  if (!interleave) {
    for (const [index, call] of calls.entries()) {
      yield head(call, index);
      for (const text of fragments[index]!) yield fragment(index, text);
    }
    return;
  }
  for (const [index, call] of calls.entries()) yield head(call, index);
  const longest = Math.max(0, ...fragments.map((f) => f.length));
  for (let n = 0; n < longest; n++) {
    for (const [index, list] of fragments.entries()) if (n < list.length) yield fragment(index, list[n]!);
  }
}

/** Splits text into pieces of `size` UTF-16 units without cutting a surrogate pair in two. */
export function slices(text: string, size: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end++;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/** Resolves after `ms`, or at once when the signal aborts (a mock that waits must not outlive its client). */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Timed pauses for one stream that end early when the client goes away. One abort listener per stream,
 * not per pause: a chunk's delay costs one timer and one promise.
 */
function pacer(signal: AbortSignal): (ms: number) => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  signal.addEventListener(
    "abort",
    () => {
      clearTimeout(timer);
      wake?.();
    },
    { once: true },
  );
  return (ms) =>
    signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = resolve;
          timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
        });
}
