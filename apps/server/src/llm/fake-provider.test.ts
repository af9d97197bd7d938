import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeOnce, embed, LlmError, streamChat } from "./index.js";

/**
 * A second, independent OpenAI-compatible server, written here with node:http and none of the mock's code, so
 * the client is shown to depend on the protocol, not on the mock's habits. Its own quirks: CRLF line endings,
 * `:` comment lines, `data:` without a space, the first argument fragment inside the tool-call head, usage on
 * the finish chunk, and no `[DONE]` (the stream just ends).
 */
const KEY = "fake-key";
// biome-ignore lint/suspicious/noExplicitAny: request bodies are read loosely
let lastBody: any;
let failuresLeft = 0;
let closedEarly: Promise<void> = Promise.resolve();

function event(payload: unknown): string {
  return `: keep-alive\r\ndata:${JSON.stringify(payload)}\r\n\r\n`;
}

function chunk(delta: Record<string, unknown>, finish: string | null = null, usage?: unknown) {
  return event({
    id: "fake-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "fake-model",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  });
}

const usage = {
  prompt_tokens: 20,
  completion_tokens: 5,
  total_tokens: 25,
  prompt_tokens_details: { cached_tokens: 7 },
};

const server = http.createServer(async (req, res) => {
  let raw = "";
  for await (const part of req) raw += part;
  lastBody = raw ? JSON.parse(raw) : undefined;
  if (req.headers.authorization !== `Bearer ${KEY}`) {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "bad key", type: "auth", code: "invalid_api_key" } }));
    return;
  }
  if (req.url === "/v1/embeddings" && lastBody.model === "fake-silent") return; // answers nothing, ever
  if (req.url === "/v1/embeddings" && lastBody.model === "fake-scrambled") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", data: [{ index: 0, embedding: ["not", "numbers"] }] }));
    return;
  }
  if (req.url === "/v1/embeddings") {
    res.writeHead(200, { "content-type": "application/json" });
    const data = lastBody.input.map((text: string, index: number) => ({
      object: "embedding",
      index,
      embedding: [text.length, 1],
    }));
    res.end(
      JSON.stringify({ object: "list", data, model: lastBody.model, usage: { prompt_tokens: 3, total_tokens: 3 } }),
    );
    return;
  }
  if (failuresLeft > 0) {
    failuresLeft--;
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "overloaded", type: "server_error" } }));
    return;
  }
  const prompt = lastBody.messages.at(-1).content as string;
  if (!lastBody.stream && prompt === "gateway error") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "upstream model crashed", code: 502 } }));
    return;
  }
  if (!lastBody.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "fake-2",
        object: "chat.completion",
        created: 1,
        model: "fake-model",
        choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "length" }],
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  if (prompt === "tools") {
    res.write(chunk({ role: "assistant", content: null }));
    res.write(
      chunk({
        tool_calls: [{ index: 0, id: "t1", type: "function", function: { name: "search", arguments: '{"q":' } }],
      }),
    );
    res.write(
      chunk({ tool_calls: [{ index: 1, id: "t2", type: "function", function: { name: "open", arguments: "" } }] }),
    );
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"cats"}' } }] }));
    res.write(chunk({ tool_calls: [{ index: 1, function: { arguments: '{"url":"https://x.test"}' } }] }));
    res.end(chunk({}, "tool_calls", usage));
    return;
  }
  if (prompt === "endless") {
    closedEarly = new Promise((resolve) => res.on("close", () => resolve()));
    res.write(chunk({ role: "assistant", content: "" }));
    const timer = setInterval(() => res.write(chunk({ content: "tick " })), 10);
    res.on("close", () => clearInterval(timer));
    return;
  }
  if (prompt === "think") {
    res.write(chunk({ role: "assistant", reasoning_content: "Weighing" }));
    res.write(chunk({ reasoning_content: " it." }));
    res.write(chunk({ content: [{ type: "text", text: "Decided." }] }));
    res.end(chunk({}, "stop", usage));
    return;
  }
  if (prompt === "gateway error") {
    res.write(chunk({ role: "assistant", content: "Partial" }));
    res.end(event({ error: { message: "upstream model crashed", code: 502 } }));
    return;
  }
  if (prompt === "cut short") {
    res.write(chunk({ role: "assistant", content: "Half a" }));
    res.end();
    return;
  }
  res.write(chunk({ role: "assistant" }));
  for (const word of ["Hello", " from", " elsewhere"]) res.write(chunk({ content: word }));
  res.end(chunk({}, "stop", usage));
});

let baseUrl: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const ask = (content: string, options: Partial<Parameters<typeof streamChat>[0]> = {}) =>
  streamChat({
    provider: { baseUrl, apiKey: KEY },
    model: "fake-model",
    messages: [{ role: "user", content }],
    retryBaseDelayMs: 1,
    ...options,
  });

describe("the client against an independent OpenAI-compatible server", () => {
  it("streams text and reads usage from the finish chunk", async () => {
    const deltas: string[] = [];
    const result = await ask("hi", { onTextDelta: (d) => deltas.push(d) });
    expect(deltas).toEqual(["Hello", " from", " elsewhere"]);
    expect(result).toMatchObject({
      text: "Hello from elsewhere",
      finishReason: "stop",
      usage: { promptTokens: 20, completionTokens: 5, cachedTokens: 7 },
    });
    expect(lastBody).toMatchObject({ model: "fake-model", stream: true, stream_options: { include_usage: true } });
  });

  it("assembles two tool calls whose fragments arrive interleaved", async () => {
    const result = await ask("tools", {
      tools: [
        { name: "search", description: "Search", parameters: { type: "object" } },
        { name: "open", description: "Open", parameters: { type: "object" } },
      ],
    });
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls).toEqual([
      { callId: "t1", name: "search", argsText: '{"q":"cats"}', args: { q: "cats" } },
      { callId: "t2", name: "open", argsText: '{"url":"https://x.test"}', args: { url: "https://x.test" } },
    ]);
    expect(lastBody.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(["search", "open"]);
  });

  it("streams reasoning apart from the answer, including content sent as a list of parts", async () => {
    const reasoning: string[] = [];
    const result = await ask("think", { onReasoningDelta: (d) => reasoning.push(d) });
    expect(reasoning).toEqual(["Weighing", " it."]);
    expect(result).toMatchObject({ text: "Decided.", reasoning: "Weighing it.", finishReason: "stop" });
  });

  it("fails on an error the provider sends inside the stream, and on a stream that ends without a finish", async () => {
    const deltas: string[] = [];
    const reported = await ask("gateway error", { onTextDelta: (d) => deltas.push(d) }).catch((e: unknown) => e);
    expect(reported).toMatchObject({ code: "http_error", status: 502, outputStarted: true, attempts: 1 });
    expect((reported as Error).message).toContain("upstream model crashed");
    expect(deltas).toEqual(["Partial"]);
    const cut = await ask("cut short").catch((e: unknown) => e);
    expect(cut).toMatchObject({ code: "connection_error", outputStarted: true });
    expect((cut as Error).message).toMatch(/ended before the reply was complete/);
  });

  it("closes the connection when the caller aborts", async () => {
    const caller = new AbortController();
    let deltas = 0;
    const call = ask("endless", {
      signal: caller.signal,
      onTextDelta: () => {
        if (++deltas === 3) caller.abort(new Error("stop"));
      },
    });
    await expect(call).rejects.toThrow("stop");
    await closedEarly;
    expect(deltas).toBe(3);
  });

  it("retries a 503 before output, then reports a refused key", async () => {
    failuresLeft = 1;
    const result = await ask("hi");
    expect(result.attempts).toBe(2);
    const refused = await streamChat({
      provider: { baseUrl, apiKey: "wrong" },
      model: "fake-model",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LlmError);
    expect(refused).toMatchObject({ code: "auth_failed", status: 401, attempts: 1 });
  });

  it("gives up on an embedding request that gets no answer, and rejects vectors that are not numbers", async () => {
    const target = { provider: { baseUrl, apiKey: KEY }, input: ["ab"], maxRetries: 0 };
    const silent = await embed({ ...target, model: "fake-silent", timeoutMs: 50 }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(LlmError);
    expect(silent).toMatchObject({ code: "timeout" });
    const scrambled = await embed({ ...target, model: "fake-scrambled" }).catch((e: unknown) => e);
    expect(scrambled).toMatchObject({ code: "invalid_response" });
  });

  it("reports an error a gateway sent inside a 200 answer to a connection test", async () => {
    const error = await completeOnce({
      provider: { baseUrl, apiKey: KEY },
      model: "fake-model",
      prompt: "gateway error",
    })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: "http_error", status: 502 });
    expect((error as Error).message).toContain("upstream model crashed");
  });

  it("completes once and embeds", async () => {
    expect((await completeOnce({ provider: { baseUrl, apiKey: KEY }, model: "fake-model" })).text).toBe("pong");
    expect(lastBody).toMatchObject({ max_tokens: 1 });
    const vectors = await embed({ provider: { baseUrl, apiKey: KEY }, model: "fake-embed", input: ["ab", "abcd"] });
    expect(vectors).toEqual({
      embeddings: [
        [2, 1],
        [4, 1],
      ],
      tokens: 3,
    });
  });
});
