import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../config.js";
import { startSignedIn, startTestServer, type TestResponse } from "../testing/harness.js";
import { embedText } from "./embeddings.js";
import { MockLlm, mockLlmRoutes, type ServedMockLlm, serveMockLlm } from "./index.js";

let served: ServedMockLlm;
beforeAll(async () => {
  served = await serveMockLlm();
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => served.mock.reset());

// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape
type Json = any;

function post(path: string, body: unknown, init: RequestInit = {}): Promise<TestResponse> {
  return fetch(`${served.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  }) as Promise<TestResponse>;
}

function get(path: string): Promise<TestResponse> {
  return fetch(`${served.baseUrl}${path}`) as Promise<TestResponse>;
}

function chat(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: "mock-model", messages: [{ role: "user", content }], ...extra };
}

/** Splits an SSE body into its `data:` payloads, the way OpenAI clients do. */
function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter(Boolean)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n"),
    );
}

async function streamChunks(body: Record<string, unknown>): Promise<{ chunks: Json[]; raw: string[] }> {
  const response = await post("/chat/completions", { ...body, stream: true });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const raw = sseData(await response.text());
  expect(raw.at(-1)).toBe("[DONE]");
  return { chunks: raw.slice(0, -1).map((d) => JSON.parse(d)), raw };
}

function streamedText(chunks: Json[]): string {
  return chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
}

describe("chat/completions, streamed", () => {
  it("sends a role chunk, content chunks, a final chunk with finish_reason, then [DONE]; no usage unless asked", async () => {
    const { chunks } = await streamChunks(chat("hello there, mock"));
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: "mock-model" });
      expect(typeof chunk.created).toBe("number");
      expect(chunk).not.toHaveProperty("usage");
    }
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    });
    const last = chunks.at(-1);
    expect(last.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    expect(streamedText(chunks)).toBe("Mock reply: hello there, mock");
    expect(chunks.length).toBeGreaterThan(3);
  });

  it("adds usage: null to every chunk and a final usage chunk with empty choices when include_usage is set", async () => {
    const { chunks } = await streamChunks(chat("count me", { stream_options: { include_usage: true } }));
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: Math.ceil("Mock reply: count me".length / 4),
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(usageChunk.usage.total_tokens).toBe(usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  it("is deterministic: the same request streams the same bytes apart from id and time", async () => {
    const strip = (raw: string[]) => raw.map((d) => d.replace(/"id":"[^"]+"|"created":\d+/g, ""));
    const first = await streamChunks(chat("/mock long kb=1"));
    const second = await streamChunks(chat("/mock long kb=1"));
    expect(strip(second.raw)).toEqual(strip(first.raw));
    expect(streamedText(first.chunks)).toHaveLength(1024);
  });

  it("streams tool calls as a head per call then index-keyed argument fragments, finishing with tool_calls", async () => {
    const body = chat(
      '/mock tool_calls\nget_weather {"city":"Paris","unit":"celsius"}\nget_time {"zone":"Europe/Paris"}',
      {
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      },
    );
    const { chunks } = await streamChunks(body);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    const heads = deltas.filter((d: Json) => d.id);
    expect(heads.map((h: Json) => [h.index, h.type, h.function.name, h.function.arguments])).toEqual([
      [0, "function", "get_weather", ""],
      [1, "function", "get_time", ""],
    ]);
    const fragments = deltas.filter((d: Json) => !d.id);
    expect(fragments.every((f: Json) => Object.keys(f).sort().join() === "function,index")).toBe(true);
    expect(fragments.filter((f: Json) => f.index === 0).length).toBeGreaterThan(2);
    const argsOf = (index: number) =>
      fragments
        .filter((f: Json) => f.index === index)
        .map((f: Json) => f.function.arguments)
        .join("");
    expect(JSON.parse(argsOf(0))).toEqual({ city: "Paris", unit: "celsius" });
    expect(JSON.parse(argsOf(1))).toEqual({ zone: "Europe/Paris" });
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });

  it("interleaves fragments of several calls when asked", async () => {
    const { chunks } = await streamChunks(
      chat('/mock tool_calls interleave=true chunk_size=4\na {"x":"1234"}\nb {"y":"5678"}'),
    );
    const order = chunks.flatMap((c) => (c.choices[0]?.delta?.tool_calls ?? []).map((d: Json) => d.index));
    expect(order.slice(0, 6)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it("answers tool results with a follow-up that mentions them", async () => {
    const first = await streamChunks(chat("/mock tool_calls\nlookup {}"));
    const head = first.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).find((d: Json) => d.id);
    const messages = [
      { role: "user", content: "/mock tool_calls\nlookup {}" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: head.id, type: "function", function: { name: "lookup", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: head.id, content: "42 apples" },
    ];
    const { chunks } = await streamChunks({ model: "mock-model", messages });
    expect(streamedText(chunks)).toBe("Tool results: lookup: 42 apples");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });

  it("takes content parts as text, and a tool result's images for no message of the person", async () => {
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } };
    const parts = [{ type: "text", text: "/mock text\nfrom parts" }];
    expect(
      streamedText((await streamChunks({ model: "mock-model", messages: [{ role: "user", content: parts }] })).chunks),
    ).toBe("from parts");
    const messages = [
      { role: "user", content: "/mock digest" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "shot", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "took it" },
      { role: "user", content: [{ type: "text", text: "Screenshot from shot (a.png):" }, image] },
      { role: "user", content: [image] },
    ];
    const digest = JSON.parse(streamedText((await streamChunks({ model: "mock-model", messages })).chunks));
    expect(digest).toMatchObject({ last_user: "", images: 2 });
    expect(served.mock.lastRequest()!.directive).toBe("/mock digest");
    // A user message with an image that does not follow tool results is the person's.
    const own = [{ role: "user", content: [{ type: "text", text: "/mock digest" }, image] }];
    expect(JSON.parse(streamedText((await streamChunks({ model: "mock-model", messages: own })).chunks)).images).toBe(
      1,
    );
  });

  it("embeds the send time in each chunk for benchmarks", async () => {
    const before = performance.timeOrigin + performance.now();
    const { chunks } = await streamChunks(chat("/mock stamps count=5 delay=1"));
    const stamps = [...streamedText(chunks).matchAll(/\[t=(\d+\.\d{3})\] /g)].map((m) => Number(m[1]));
    expect(stamps).toHaveLength(5);
    expect(stamps[0]).toBeGreaterThanOrEqual(before);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it("holds the first chunk until start_at, so streams sent at different times start together", async () => {
    const startAt = Date.now() + 150;
    const { chunks } = await streamChunks(chat(`/mock stamps count=2 start_at=${startAt}`));
    const stamps = [...streamedText(chunks).matchAll(/\[t=(\d+\.\d{3})\] /g)].map((m) => Number(m[1]));
    expect(stamps).toHaveLength(2);
    expect(stamps[0]).toBeGreaterThanOrEqual(startAt - 5); // two clocks: Date.now() and the stamp's
    // A start time already past adds no wait.
    const past = performance.timeOrigin + performance.now();
    const again = await streamChunks(chat(`/mock stamps count=1 start_at=${Date.now() - 60_000}`));
    const [stamp] = [...streamedText(again.chunks).matchAll(/\[t=(\d+\.\d{3})\] /g)].map((m) => Number(m[1]));
    expect(stamp! - past).toBeLessThan(5_000);
  });

  it("replaces the chosen chunk with a malformed one", async () => {
    const response = await post(
      "/chat/completions",
      chat("/mock text malformed_at=2 chunk_size=3\nabcdefghi", { stream: true }),
    );
    const raw = sseData(await response.text());
    expect(() => JSON.parse(raw[2]!)).toThrow();
    expect(raw.at(-1)).toBe("[DONE]");
  });

  it("cuts the connection after N reply chunks", async () => {
    const response = await post(
      "/chat/completions",
      chat("/mock text disconnect_after=2 chunk_size=2\nabcdefgh", { stream: true }),
    );
    const reader = response.body!.getReader();
    let received = "";
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += decoder.decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(sseData(received).map((d) => JSON.parse(d).choices[0].delta.content)).toEqual(["", "ab", "cd"]);
    const record = served.mock.lastRequest()!;
    expect(await record.finished).toBe("disconnected");
  });

  it("hangs before the first token until the client goes away", async () => {
    const client = new AbortController();
    const seen = served.mock.waitForRequest();
    const pending = post("/chat/completions", chat("/mock hang", { stream: true }), { signal: client.signal });
    const record = await seen;
    const response = await pending;
    expect(response.status).toBe(200);
    const read = response.body!.getReader().read();
    client.abort();
    await expect(read).rejects.toThrow();
    expect(await record.finished).toBe("client_closed");
    expect(record.chunksSent).toBe(0);
  });
});

describe("chat/completions, not streamed", () => {
  it("returns a chat.completion object with usage", async () => {
    const response = await post("/chat/completions", chat("plain"));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "mock-model",
      choices: [{ index: 0, message: { role: "assistant", content: "Mock reply: plain" }, finish_reason: "stop" }],
      usage: {
        completion_tokens: Math.ceil("Mock reply: plain".length / 4),
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it("returns tool calls in the message and truncates to max_tokens with finish_reason length", async () => {
    const tools = await (await post("/chat/completions", chat('/mock tool_calls\nf {"a":1}'))).json();
    expect(tools.choices[0]).toMatchObject({
      message: { content: null, tool_calls: [{ type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
      finish_reason: "tool_calls",
    });
    const short = await (await post("/chat/completions", chat("a long enough question", { max_tokens: 1 }))).json();
    expect(short.choices[0]).toMatchObject({ message: { content: "Mock" }, finish_reason: "length" });
  });
});

describe("scripted errors and request validation", () => {
  it.each([
    [400, "invalid_request_error", null],
    [401, "invalid_request_error", "invalid_api_key"],
    [429, "requests", "rate_limit_exceeded"],
    [500, "server_error", null],
  ])("answers /mock error status=%i with an OpenAI error body", async (status, type, code) => {
    const response = await post("/chat/completions", chat(`/mock error status=${status} message="scripted failure"`));
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: { message: "scripted failure", type, param: null, code } });
  });

  it("sends Retry-After when asked and fails only the first `times` requests", async () => {
    const first = await post("/chat/completions", chat("/mock error status=429 retry_after=7 times=1"));
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    const second = await post("/chat/completions", chat("/mock error status=429 retry_after=7 times=1"));
    expect(second.status).toBe(200);
  });

  it("rejects broken JSON, a missing model and empty messages with 400s", async () => {
    const broken = await post("/chat/completions", "{nope");
    expect(broken.status).toBe(400);
    expect((await broken.json()).error).toMatchObject({ type: "invalid_request_error" });
    const noModel = await post("/chat/completions", { messages: [{ role: "user", content: "x" }] });
    expect(noModel.status).toBe(400);
    expect((await noModel.json()).error).toMatchObject({ param: "model", code: "missing_required_parameter" });
    const empty = await post("/chat/completions", { model: "m", messages: [] });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.param).toBe("messages");
  });

  it("rejects an unknown directive key instead of ignoring it", async () => {
    const response = await post("/chat/completions", chat("/mock text dealy=5"));
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({
      code: "mock_directive",
      message: expect.stringContaining("dealy"),
    });
  });
});

describe("scenarios and the request log", () => {
  it("plays a registered scenario's steps in order, then repeats the last", async () => {
    const created = await post("/scenarios", {
      name: "flaky",
      steps: [
        { reply: "error", status: 500 },
        { reply: "text", text: "second" },
        { reply: "text", text: "last" },
      ],
    });
    expect(created.status).toBe(201);
    const statuses: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await post("/chat/completions", chat("/mock scenario name=flaky"));
      statuses.push(response.status);
      if (response.ok) texts.push((await response.json()).choices[0].message.content);
    }
    expect(statuses).toEqual([500, 200, 200, 200]);
    expect(texts).toEqual(["second", "last", "last"]);
    const missing = await post("/chat/completions", chat("/mock scenario name=nope"));
    expect(missing.status).toBe(400);
  });

  it("plays tool-call steps literally, even after a tool round", async () => {
    await post("/scenarios", {
      name: "two-rounds",
      steps: [
        { reply: "tool_calls", calls: [{ name: "first", arguments: { n: 1 } }] },
        { reply: "tool_calls", calls: [{ name: "second", arguments: "{}" }] },
        { reply: "text", text: "done" },
      ],
    });
    const messages: Json[] = [{ role: "user", content: "/mock scenario name=two-rounds" }];
    const names: string[] = [];
    for (let round = 0; round < 3; round++) {
      const message = (await (await post("/chat/completions", { model: "mock-model", messages })).json()).choices[0]
        .message;
      if (!message.tool_calls) {
        names.push(message.content);
        break;
      }
      names.push(message.tool_calls[0].function.name);
      messages.push(message, { role: "tool", tool_call_id: message.tool_calls[0].id, content: "ok" });
    }
    expect(names).toEqual(["first", "second", "done"]);
  });

  it("rejects a malformed scenario", async () => {
    const response = await post("/scenarios", { name: "bad", steps: [{ reply: "shout" }] });
    expect(response.status).toBe(400);
    expect((await response.json()).error.param).toBe("steps.0.reply");
  });

  it("records what it received, in-process and over HTTP, without headers over HTTP", async () => {
    await post("/chat/completions", chat("remember me"), {
      headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    });
    expect(served.mock.lastRequest()?.headers.authorization).toBe("Bearer sk-test");
    const list = await (await get("/requests")).json();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({
      model: "mock-model",
      messages: [{ role: "user", content: "remember me" }],
      status: 200,
      outcome: "completed",
    });
    expect(JSON.stringify(list.data[0])).not.toContain("sk-test");
  });

  it("digests the request so a test can see what was sent", async () => {
    const body = {
      model: "mock-model",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "/mock digest\nwhat did I send?" },
      ],
      tools: [{ type: "function", function: { name: "zeta" } }],
    };
    const digest = JSON.parse((await (await post("/chat/completions", body)).json()).choices[0].message.content);
    expect(digest).toMatchObject({
      messages: 2,
      roles: ["system", "user"],
      tools: ["zeta"],
      last_user: "what did I send?",
    });
    expect(digest.system_sha256).toMatch(/^[0-9a-f]{16}$/);
  });

  it("answers with the system and developer messages, so a test can read what the model was told", async () => {
    const body = {
      model: "mock-model",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "earlier" },
        { role: "assistant", content: "Mock reply: earlier" },
        { role: "user", content: "/mock system\nwhat were you told?" },
        { role: "developer", content: [{ type: "text", text: "Today's mood: sunny" }] },
      ],
    };
    const reply = (await (await post("/chat/completions", body)).json()).choices[0].message.content;
    expect(reply).toBe("You are terse.\n\nToday's mood: sunny");
  });
});

describe("prompt-cache simulation", () => {
  it("reports the common prefix with an earlier request of the same model as cached tokens", async () => {
    const history = [
      { role: "system", content: "S".repeat(400) },
      { role: "user", content: "first question" },
    ];
    const usageOf = async (messages: unknown[], model = "mock-model") =>
      (await (await post("/chat/completions", { model, messages })).json()).usage;
    const first = await usageOf(history);
    expect(first.prompt_tokens_details.cached_tokens).toBe(0);
    const next = [
      ...history,
      { role: "assistant", content: "Mock reply: first question" },
      { role: "user", content: "second" },
    ];
    const second = await usageOf(next);
    expect(second.prompt_tokens_details.cached_tokens).toBe(Math.floor((first.prompt_tokens * 4) / 4));
    expect(second.prompt_tokens).toBeGreaterThan(first.prompt_tokens);
    const otherModel = await usageOf(next, "mock-model-2");
    expect(otherModel.prompt_tokens_details.cached_tokens).toBe(0);
  });
});

describe("models and embeddings", () => {
  it("lists models", async () => {
    const body = await (await get("/models")).json();
    expect(body.object).toBe("list");
    expect(body.data.map((m: Json) => m.id)).toEqual(expect.arrayContaining(["mock-model", "mock-model-2"]));
    expect(body.data[0]).toEqual({
      id: "mock-model",
      object: "model",
      created: expect.any(Number),
      owned_by: "cybros-mock",
    });
  });

  it("embeds deterministically into unit vectors where related texts are closer", async () => {
    const response = await post("/embeddings", {
      model: "mock-embedding",
      input: ["the cat sat on the mat", "a cat sat on a mat", "quarterly revenue grew"],
    });
    const body = await response.json();
    expect(body.data.map((d: Json) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = body.data.map((d: Json) => d.embedding as number[]);
    expect(a).toHaveLength(256);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, a)).toBeCloseTo(1, 10);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);
    expect(a).toEqual(embedText("the cat sat on the mat"));
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);

    const single = await (
      await post("/embeddings", { model: "m", input: "x", dimensions: 8, encoding_format: "base64" })
    ).json();
    expect(Buffer.from(single.data[0].embedding, "base64")).toHaveLength(8 * 4);
  });
});

describe("mounting", () => {
  // Two real servers (database included): slower than the rest of this file.
  it("serves /mock_llm/v1 without a session, and 404s when CYBROS_MOCK_LLM=off", async () => {
    const on = await startTestServer();
    try {
      const response = await on.client().post("/mock_llm/v1/chat/completions", chat("hi"));
      expect(response.status).toBe(200);
      expect((await response.json()).choices[0].message.content).toBe("Mock reply: hi");
      expect(on.services.mockLlm?.lastRequest()?.messages).toEqual([{ role: "user", content: "hi" }]);
    } finally {
      await on.close();
    }
    const off = await startTestServer({ env: { CYBROS_MOCK_LLM: "off" } });
    try {
      const response = await off.client().post("/mock_llm/v1/chat/completions", chat("hi"));
      expect(response.status).toBe(404);
    } finally {
      await off.close();
    }
  }, 120_000);
});

describe("access and limits", () => {
  it("keeps the request log and scenarios behind a session in the server; completions stay keyless", async () => {
    const { server, client } = await startSignedIn();
    try {
      await client.post("/mock_llm/v1/chat/completions", chat("a private prompt"));
      const anonymous = server.client();
      expect((await anonymous.post("/mock_llm/v1/chat/completions", chat("hi"))).status).toBe(200);
      expect((await anonymous.get("/mock_llm/v1/models")).status).toBe(200);
      const log = await anonymous.get("/mock_llm/v1/requests");
      expect(log.status).toBe(401);
      expect(await log.text()).not.toContain("a private prompt");
      expect((await anonymous.delete("/mock_llm/v1/requests")).status).toBe(401);
      expect((await anonymous.get("/mock_llm/v1/scenarios")).status).toBe(401);
      expect((await anonymous.post("/mock_llm/v1/scenarios", { name: "x", steps: [{ reply: "text" }] })).status).toBe(
        401,
      );
      expect((await anonymous.delete("/mock_llm/v1/scenarios/x")).status).toBe(401);
      expect(server.services.mockLlm!.scenarioNames()).toEqual([]);

      const signedIn = await (await client.get("/mock_llm/v1/requests")).json();
      expect(signedIn.data.map((r: Json) => r.messages[0].content)).toContain("a private prompt");
      expect((await client.post("/mock_llm/v1/scenarios", { name: "x", steps: [{ reply: "text" }] })).status).toBe(201);
      client.origin = "https://evil.example";
      expect((await client.delete("/mock_llm/v1/requests")).status).toBe(403);
    } finally {
      await server.close();
    }
  }, 120_000);

  it("answers 413 to a body over the limit without reading it", async () => {
    const mock = new MockLlm();
    const app = mockLlmRoutes(mock);
    // Declared too large and never finished: only an answer that does not wait for the body can arrive.
    const endless = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const declared = await app.request("/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(MAX_REQUEST_BODY_BYTES + 1) },
      body: endless,
      duplex: "half",
    } as RequestInit);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as Json).error.message).toMatch(/larger than/);

    // Sent in chunks without a length: refused once the count passes the limit, the rest left unread.
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let pulled = 0;
    const unbounded = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        pulled++;
        controller.enqueue(chunk);
      },
    });
    const chunked = await app.request("/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: unbounded,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(pulled).toBeLessThan(MAX_REQUEST_BODY_BYTES / chunk.length + 4);
    expect(mock.requests()).toHaveLength(0);
  });

  it("keeps a bounded number of bytes in the request log, newest first to stay", async () => {
    const budget = 4 * 1024 * 1024;
    const mock = new MockLlm({ requestLogBytes: budget });
    const app = mockLlmRoutes(mock);
    const filler = "x".repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) {
      const response = await app.request("/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chat(`request ${i}\n${filler}`)),
      });
      expect(response.status).toBe(200);
      expect(mock.requestLogBytes()).toBeLessThanOrEqual(budget);
    }
    const kept = mock.requests();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(5);
    expect(kept.at(-1)!.messages[0]!.content).toMatch(/^request 19/);
    expect(kept.reduce((sum, r) => sum + r.bytes, 0)).toBe(mock.requestLogBytes());
  });
});
