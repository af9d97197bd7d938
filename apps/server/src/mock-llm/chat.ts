import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import { z } from "zod";
import { sseResponse } from "../http/sse.js";
import { declaresJson } from "../http/validate.js";
import type { MockLlm } from "./index.js";
import { tokensFromChars } from "./prompt-cache.js";
import { type ChatRequestBody, type OpenAiErrorBody, openAiError, type PlannedReply, planReply } from "./replies.js";
import { DirectiveError, firstChunkPause } from "./steps.js";
import { type StreamPlan, type UsageBody, usageBody, wait, writeCompletionStream } from "./stream.js";

const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string().min(1) })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  tools: z.array(z.looseObject({})).nullish(),
  max_tokens: z.number().int().nullish(),
  max_completion_tokens: z.number().int().nullish(),
});

/**
 * Reads an OpenAI-style JSON body; answers the 415 or 400 OpenAI would for another media type, broken JSON or a
 * missing field. `bytes` is the body's size, what the request log counts.
 */
export async function readOpenAiBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<{ ok: true; value: z.infer<S>; bytes: number } | { ok: false; status: 400 | 415; error: OpenAiErrorBody }> {
  if (!declaresJson(c)) {
    return {
      ok: false,
      status: 415,
      error: openAiError("Send the body as JSON, with Content-Type: application/json."),
    };
  }
  let raw: unknown;
  let bytes: number;
  try {
    const text = await c.req.text();
    bytes = Buffer.byteLength(text);
    raw = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, error: openAiError("We could not parse the JSON body of your request.") };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data, bytes };
  const issue = parsed.error.issues[0]!;
  const param = issue.path.join(".") || null;
  const missing = issue.code === "invalid_type" && issue.input === undefined;
  const message = missing ? `Missing required parameter: '${param}'.` : `Invalid '${param}': ${issue.message}.`;
  return {
    ok: false,
    status: 400,
    error: openAiError(
      message,
      "invalid_request_error",
      missing ? "missing_required_parameter" : "invalid_value",
      param,
    ),
  };
}

/** POST chat/completions: record, resolve the scripted step, then answer as JSON or as an SSE stream. */
export async function chatCompletion(mock: MockLlm, c: Context): Promise<Response> {
  // The request's arrival, before its body is read and parsed: that is the provider's own time.
  const receivedAt = performance.timeOrigin + performance.now();
  const read = await readOpenAiBody(c, chatRequest);
  if (!read.ok) return c.json(read.error, read.status);
  const request = read.value as ChatRequestBody;
  const segments = [...(request.tools ?? []), ...request.messages].map((part) => JSON.stringify(part));
  const cache = mock.promptCache.measure(request.model, segments);
  const record = mock.record(request, c.req.header(), cache, read.bytes, receivedAt);

  let resolved: ReturnType<MockLlm["resolveStep"]>;
  try {
    resolved = mock.resolveStep(request);
  } catch (error) {
    if (!(error instanceof DirectiveError)) throw error;
    record.respond(400);
    return c.json(openAiError(`mock directive: ${error.message}`, "invalid_request_error", "mock_directive"), 400);
  }
  record.directive = resolved.directive;
  record.scenario = resolved.scenario;
  record.step = resolved.step;

  const { step } = resolved;
  const reply = planReply({ request, step, body: resolved.body, cache });
  if (reply.kind === "error") {
    record.respond(reply.status);
    if (reply.retryAfter !== undefined) c.header("retry-after", String(reply.retryAfter));
    return c.json(reply.body, reply.status as 400);
  }
  // Only answered prompts warm the cache, as with real providers.
  cache.commit();

  const id = `chatcmpl-mock-${record.id}`;
  const created = Math.floor(record.receivedAt / 1000);
  const usage = (outputChars: number) =>
    usageBody(cache.promptTokens, cache.cachedTokens, tokensFromChars(outputChars));
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;

  if (request.stream) {
    record.status = 200;
    const plan: StreamPlan = {
      id,
      model: request.model,
      created,
      includeUsage: Boolean(request.stream_options?.include_usage),
      reply,
      step,
      usage,
      onReplyChunk: () => record.chunksSent++,
      onEnd: (outcome) => record.end(outcome),
    };
    return sseResponse(c, (sink) => void writeCompletionStream(plan, sink));
  }

  const closed = c.req.raw.signal;
  const pause = firstChunkPause(step);
  if (pause > 0) await wait(pause, closed);
  if (reply.kind === "hang" || step.stall_after !== undefined) {
    await wait(Number.POSITIVE_INFINITY, closed);
    record.end("client_closed");
    return c.body(null, 499 as 200);
  }
  if (step.disconnect_after !== undefined) {
    record.end("disconnected");
    outgoing?.socket?.destroy();
    return c.body(null, 500);
  }
  record.status = 200;
  record.end("completed");
  if (step.malformed_at !== undefined) {
    return c.body(`{"id":"${id}","object":"chat.completion","choices":[{"message":`, 200, {
      "content-type": "application/json",
    });
  }
  return c.json(completionBody(id, created, request.model, reply, usage));
}

/** A non-streamed chat.completion object. */
function completionBody(
  id: string,
  created: number,
  model: string,
  reply: PlannedReply & { kind: "message" },
  usage: (outputChars: number) => UsageBody,
) {
  const content = reply.stamps ? `[t=${(performance.timeOrigin + performance.now()).toFixed(3)}]` : reply.content;
  const toolCalls = reply.toolCalls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  const outputChars = content.length + reply.toolCalls.reduce((n, t) => n + t.name.length + t.arguments.length, 0);
  return {
    id,
    object: "chat.completion",
    created,
    model,
    system_fingerprint: "fp_mock",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: toolCalls.length && !content ? null : content,
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason,
      },
    ],
    usage: usage(outputChars),
  };
}
