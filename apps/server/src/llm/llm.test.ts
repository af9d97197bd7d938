import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { embedText } from "../mock-llm/embeddings.js";
import { type ServedMockLlm, serveMockLlm } from "../mock-llm/index.js";
import { toWireMessages } from "./chat-completions.js";
import { type ChatMessage, completeOnce, embed, LlmError, type StreamChatOptions, streamChat } from "./index.js";

let served: ServedMockLlm;
beforeAll(async () => {
  served = await serveMockLlm();
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => served.mock.reset());

const API_KEY = "sk-mock-secret-1234";

function ask(content: string, options: Partial<StreamChatOptions> = {}) {
  return streamChat({
    provider: { baseUrl: served.baseUrl, apiKey: API_KEY, headers: { "x-title": "cybros-tests" } },
    model: "mock-model",
    messages: [{ role: "user", content }],
    retryBaseDelayMs: 1,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

const weatherTools = [
  {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
  {
    name: "get_time",
    description: "Time in a zone",
    parameters: { type: "object", properties: { zone: { type: "string" } } },
  },
];

describe("streaming text", () => {
  it("hands each delta over as its chunk arrives and reports usage and timing", async () => {
    const deltas: string[] = [];
    const result = await ask("/mock text chunk_size=4\nHello world!", { onTextDelta: (d) => deltas.push(d) });
    expect(deltas).toEqual(["Hell", "o wo", "rld!"]);
    expect(result).toMatchObject({ text: "Hello world!", finishReason: "stop", toolCalls: [], attempts: 1 });
    expect(result.usage).toEqual({ promptTokens: expect.any(Number), completionTokens: 3, cachedTokens: 0 });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.timing.ttftMs).toBeGreaterThanOrEqual(0);
    expect(result.timing.durationMs).toBeGreaterThanOrEqual(result.timing.ttftMs!);
  });

  it("delivers a delta while the provider is still holding the stream open (no buffering)", async () => {
    const caller = new AbortController();
    const deltas: string[] = [];
    const call = ask("/mock text chunk_size=5 stall_after=1\nHello world", {
      signal: caller.signal,
      onTextDelta: (d) => {
        deltas.push(d);
        caller.abort(new Error("seen enough"));
      },
    });
    await expect(call).rejects.toThrow("seen enough");
    expect(deltas).toEqual(["Hello"]);
  });

  it("sends the key, the provider's headers and the exact messages", async () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "first" },
      { role: "assistant", content: "Mock reply: first" },
      { role: "user", content: "second" },
    ];
    await ask("", { messages });
    const record = served.mock.lastRequest()!;
    expect(record.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(record.headers["x-title"]).toBe("cybros-tests");
    expect(record.messages).toEqual(messages);
    expect(record.body.stream_options).toEqual({ include_usage: true });
  });
});

describe("tool calls", () => {
  it("assembles calls from index-keyed fragments, keeping the argument text verbatim", async () => {
    const result = await ask(
      '/mock tool_calls chunk_size=3 interleave=true\nget_weather {"city": "Paris"}\nget_time {"zone":"UTC"}',
      {
        tools: weatherTools,
      },
    );
    expect(result.finishReason).toBe("tool_calls");
    expect(result.text).toBe("");
    expect(result.toolCalls).toEqual([
      {
        callId: expect.stringMatching(/^call_/),
        name: "get_weather",
        argsText: '{"city": "Paris"}',
        args: { city: "Paris" },
      },
      { callId: expect.stringMatching(/^call_/), name: "get_time", argsText: '{"zone":"UTC"}', args: { zone: "UTC" } },
    ]);
    expect(result.toolCalls[0]!.callId).not.toBe(result.toolCalls[1]!.callId);
    const offered = served.mock.lastRequest()!.tools.map((t) => (t as { function: { name: string } }).function.name);
    expect(offered).toEqual(["get_weather", "get_time"]);
  });

  it("reports arguments that are not JSON instead of throwing", async () => {
    const result = await ask('/mock tool_calls\nget_weather {"city": "Par', { tools: weatherTools });
    expect(result.toolCalls).toEqual([
      {
        callId: expect.any(String),
        name: "get_weather",
        argsText: '{"city": "Par',
        parseError: expect.stringMatching(/not valid JSON/),
      },
    ]);
  });

  it("sends tool results back and gets a follow-up that mentions them, replaying the call byte for byte", async () => {
    const question = '/mock tool_calls\nget_weather {"city": "Paris"}';
    const first = await ask(question, { tools: weatherTools });
    const call = first.toolCalls[0]!;
    const messages: ChatMessage[] = [
      { role: "user", content: question },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ callId: call.callId, name: call.name, argsText: call.argsText }],
      },
      { role: "tool", toolCallId: call.callId, toolName: call.name, content: "21°C and sunny" },
    ];
    const followUp = await ask("", { messages, tools: weatherTools });
    expect(followUp.text).toBe("Tool results: get_weather: 21°C and sunny");
    expect(followUp.finishReason).toBe("stop");
    expect(served.mock.lastRequest()!.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: call.callId, type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } },
        ],
      },
      { role: "tool", tool_call_id: call.callId, content: "21°C and sunny" },
    ]);
  });
});

describe("images", () => {
  const png = Buffer.from("not really a png").toString("base64");

  it("maps image parts to image_url data URLs and text parts to text parts; string content stays a string", () => {
    expect(
      toWireMessages([
        { role: "user", content: "plain" },
        {
          role: "user",
          content: [
            { type: "text", text: "Screenshot from take_screenshot (screenshot.png):" },
            { type: "image", contentType: "image/png", base64: png },
          ],
        },
      ]),
    ).toEqual([
      { role: "user", content: "plain" },
      {
        role: "user",
        content: [
          { type: "text", text: "Screenshot from take_screenshot (screenshot.png):" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
        ],
      },
    ]);
  });

  it("sends a tool result's image after the tool message, and the model answers the person's message", async () => {
    const question = "/mock tool_calls\ntake_screenshot {}";
    const first = await ask(question);
    const call = first.toolCalls[0]!;
    const messages: ChatMessage[] = [
      { role: "user", content: question },
      { role: "assistant", content: "", toolCalls: [{ callId: call.callId, name: call.name, argsText: "{}" }] },
      { role: "tool", toolCallId: call.callId, toolName: call.name, content: "Took a screenshot." },
      { role: "user", content: [{ type: "image", contentType: "image/png", base64: png }] },
    ];
    const followUp = await ask("", { messages });
    // The image message is not taken for the person's: the directive's tool round is over, so this is its follow-up.
    expect(followUp.text).toBe("Tool results (and 1 image): take_screenshot: Took a screenshot.");
    expect(served.mock.lastRequest()!.messages.at(-1)).toEqual({
      role: "user",
      content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }],
    });
  });
});

describe("cancellation and timeouts", () => {
  it("closes the upstream request when the caller aborts", async () => {
    const caller = new AbortController();
    const call = ask("/mock long kb=4 chunk_size=8 delay=20", {
      signal: caller.signal,
      onTextDelta: () => caller.abort(new Error("user pressed stop")),
    });
    await expect(call).rejects.toThrow("user pressed stop");
    const record = served.mock.lastRequest()!;
    expect(await record.finished).toBe("client_closed");
    expect(record.chunksSent).toBeLessThan(10);
  });

  it("gives up when nothing arrives before the first-token timeout, and closes the request", async () => {
    const received = served.mock.waitForRequest();
    const error = await failure(ask("/mock hang", { firstTokenTimeoutMs: 1_000, maxRetries: 2 }));
    expect(error).toMatchObject({ code: "timeout", outputStarted: false, attempts: 1 });
    expect(error.message).toMatch(/within 1000 ms/);
    expect(await (await received).finished).toBe("client_closed");
    expect(served.mock.requests()).toHaveLength(1);
  });

  it("gives up when the stream goes silent mid-reply, keeping what was delivered", async () => {
    const deltas: string[] = [];
    const error = await failure(
      ask("/mock text chunk_size=3 stall_after=1\nabcdef", {
        idleTimeoutMs: 100,
        firstTokenTimeoutMs: 5_000,
        onTextDelta: (d) => deltas.push(d),
      }),
    );
    expect(error).toMatchObject({ code: "timeout", outputStarted: true });
    expect(error.message).toMatch(/silent for 100 ms/);
    expect(deltas).toEqual(["abc"]);
    expect(await served.mock.lastRequest()!.finished).toBe("client_closed");
  });

  it("lets slow but steady streams finish (the idle timer restarts on every chunk)", async () => {
    // 10 chunks 100 ms apart: twice the idle limit in total, never near it between two chunks.
    const result = await ask("/mock text chunk_size=1 delay=100\nabcdefghij", {
      idleTimeoutMs: 500,
      firstTokenTimeoutMs: 5_000,
    });
    expect(result.text).toBe("abcdefghij");
  });
});

describe("retries", () => {
  it("retries 500s before the first token and then succeeds", async () => {
    const retries: number[] = [];
    const result = await ask("/mock error status=500 times=2", {
      maxRetries: 2,
      onRetry: ({ attempt, error }) => {
        expect(error.code).toBe("http_error");
        retries.push(attempt);
      },
    });
    expect(result.text).toBe("Mock reply: ");
    expect(result.attempts).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(served.mock.requests().map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("stops after maxRetries", async () => {
    const error = await failure(ask("/mock error status=503 times=5", { maxRetries: 1 }));
    expect(error).toMatchObject({ code: "http_error", status: 503, attempts: 2 });
    expect(served.mock.requests()).toHaveLength(2);
  });

  it("retries a connection dropped before any output", async () => {
    const result = await ask("/mock text disconnect_after=0 times=1\nsecond time lucky", { maxRetries: 1 });
    expect(result.text).toBe("Mock reply: second time lucky");
    expect(served.mock.requests().map((r) => r.outcome)).toEqual(["disconnected", "completed"]);
  });

  it("never retries once output started: a mid-stream disconnect fails the call", async () => {
    const deltas: string[] = [];
    const error = await failure(
      ask("/mock text chunk_size=2 disconnect_after=2\nabcdefgh", {
        maxRetries: 3,
        onTextDelta: (d) => deltas.push(d),
      }),
    );
    expect(error).toMatchObject({ code: "connection_error", outputStarted: true, attempts: 1 });
    expect(deltas).toEqual(["ab", "cd"]);
    expect(served.mock.requests()).toHaveLength(1);
  });

  it("does not retry errors that will not go away", async () => {
    const error = await failure(ask("/mock error status=400", { maxRetries: 3 }));
    expect(error).toMatchObject({ code: "http_error", status: 400, attempts: 1 });
    expect(served.mock.requests()).toHaveLength(1);
  });
});

describe("error mapping", () => {
  it.each([
    ["/mock error status=400", "http_error", 400],
    ["/mock error status=401", "auth_failed", 401],
    ["/mock error status=403", "auth_failed", 403],
    ["/mock error status=429", "rate_limited", 429],
    ["/mock error status=500", "http_error", 500],
    ["/mock error status=400 code=context_length_exceeded", "context_too_long", 400],
  ])("%s → %s", async (directive, code, status) => {
    const error = await failure(ask(directive, { maxRetries: 0 }));
    expect(error).toMatchObject({ code, status });
  });

  it("maps a malformed chunk, an empty reply and an unreachable provider", async () => {
    expect(await failure(ask("/mock text malformed_at=2 chunk_size=2\nabcdef"))).toMatchObject({
      code: "invalid_response",
      outputStarted: true,
    });
    expect(await failure(ask("/mock empty"))).toMatchObject({ code: "empty_response" });
    const unreachable = await failure(
      streamChat({
        provider: { baseUrl: "http://127.0.0.1:9/v1" },
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        maxRetries: 1,
        retryBaseDelayMs: 1,
      }),
    );
    expect(unreachable).toMatchObject({ code: "connection_error", attempts: 2 });
  });

  it("keeps the API key out of error messages", async () => {
    const error = await failure(ask(`/mock error status=401 message="Incorrect API key provided: ${API_KEY}"`));
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).toContain("[redacted]");
  });
});

describe("prompt caching", () => {
  it("reports more cached tokens as a conversation grows on a common prefix", async () => {
    const system: ChatMessage = { role: "system", content: "You are a careful assistant. ".repeat(40) };
    const turn1: ChatMessage[] = [system, { role: "user", content: "first question" }];
    const first = await ask("", { messages: turn1 });
    expect(first.usage.cachedTokens).toBe(0);

    const turn2: ChatMessage[] = [
      ...turn1,
      { role: "assistant", content: first.text },
      { role: "user", content: "second" },
    ];
    const second = await ask("", { messages: turn2 });
    expect(second.usage.cachedTokens).toBeGreaterThan(0);
    // Everything the first request sent is cached; only the new messages are not.
    expect(second.usage.cachedTokens).toBeGreaterThanOrEqual(first.usage.promptTokens! - 1);
    expect(second.usage.cachedTokens).toBeLessThan(second.usage.promptTokens!);

    const turn3: ChatMessage[] = [
      ...turn2,
      { role: "assistant", content: second.text },
      { role: "user", content: "third" },
    ];
    const third = await ask("", { messages: turn3 });
    expect(third.usage.cachedTokens).toBeGreaterThan(second.usage.cachedTokens!);
  });
});

describe("completeOnce and embed", () => {
  it("completes one token for a connection test", async () => {
    const result = await completeOnce({ provider: { baseUrl: served.baseUrl }, model: "mock-model" });
    expect(result.text).toBe("Mock");
    expect(served.mock.lastRequest()!.body).toMatchObject({ max_tokens: 1 });
    expect(served.mock.lastRequest()!.stream).toBe(false);
  });

  it("reports a refused key and a timeout with stable codes", async () => {
    const refused = await failure(
      completeOnce({ provider: { baseUrl: served.baseUrl }, model: "mock-model", prompt: "/mock error status=401" }),
    );
    expect(refused).toMatchObject({ code: "auth_failed", status: 401 });
    const slow = await failure(
      completeOnce({
        provider: { baseUrl: served.baseUrl },
        model: "mock-model",
        prompt: "/mock hang",
        timeoutMs: 100,
      }),
    );
    expect(slow.code).toBe("timeout");
  });

  it("maps a non-streamed answer's 429, 500, malformed body and unreachable provider to stable codes", async () => {
    const target = { provider: { baseUrl: served.baseUrl }, model: "mock-model" };
    const limited = await failure(completeOnce({ ...target, prompt: "/mock error status=429 retry_after=2" }));
    expect(limited).toMatchObject({ code: "rate_limited", status: 429, retryable: true, retryAfterMs: 2000 });
    const broken = await failure(completeOnce({ ...target, prompt: "/mock error status=500 message=boom" }));
    expect(broken).toMatchObject({ code: "http_error", status: 500, retryable: true });
    expect(broken.message).toContain("boom");
    const malformed = await failure(completeOnce({ ...target, prompt: "/mock text malformed_at=1\nhi" }));
    expect(malformed.code).toBe("invalid_response");
    const unreachable = await failure(completeOnce({ ...target, provider: { baseUrl: "http://127.0.0.1:1/v1" } }));
    expect(unreachable).toMatchObject({ code: "connection_error", retryable: true });
  });

  it("retries an embedding request the provider failed with a 5xx, and not one it refused", async () => {
    const target = { provider: { baseUrl: served.baseUrl }, model: "mock-embedding", retryBaseDelayMs: 1 };
    const overloaded = await failure(embed({ ...target, input: "/mock error status=503", maxRetries: 2 }));
    expect(overloaded).toMatchObject({ code: "http_error", status: 503, attempts: 3 });
    const limited = await failure(embed({ ...target, input: "/mock error status=429 retry_after=1", maxRetries: 0 }));
    expect(limited).toMatchObject({ code: "rate_limited", status: 429, retryAfterMs: 1000, attempts: 1 });
    const refused = await failure(embed({ ...target, input: "/mock error status=401", maxRetries: 2 }));
    expect(refused).toMatchObject({ code: "auth_failed", attempts: 1 });
  });

  it("embeds through the provider's /embeddings", async () => {
    const result = await embed({
      provider: { baseUrl: served.baseUrl },
      model: "mock-embedding",
      input: ["red apples", "green pears"],
    });
    expect(result.embeddings).toEqual([embedText("red apples"), embedText("green pears")]);
    expect(result.tokens).toBeGreaterThan(0);
    const short = await embed({
      provider: { baseUrl: served.baseUrl },
      model: "mock-embedding",
      input: "x",
      dimensions: 8,
    });
    expect(short.embeddings[0]).toHaveLength(8);
    const error = await failure(
      embed({
        provider: { baseUrl: served.baseUrl },
        model: "mock-embedding",
        input: "/mock error status=401",
        maxRetries: 0,
      }),
    );
    expect(error.code).toBe("auth_failed");
  });
});
