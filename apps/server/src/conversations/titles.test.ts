import type { IncomingMessage, ServerResponse } from "node:http";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { conversations } from "../db/schema.js";
import { defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { type LocalHttpServer, startLocalHttp } from "../testing/local-http.js";
import { cleanTitle, retitle, titleFromMessage } from "./title.js";

let server: TestServer;
let client: TestClient;
let agentId: string;
const readers: EventStreamReader[] = [];
const locals: LocalHttpServer[] = [];

beforeEach(async () => {
  ({ server, client } = await startSignedIn());
  await server.url();
  agentId = await defaultAssistantId(server.services.db);
});
afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  await server.close();
  for (const local of locals.splice(0)) await local.close();
});

/** Creates a conversation with its first message and follows its events from the start. */
async function start(content: string) {
  const response = await client.post("/api/conversations", { agentProgramId: agentId, message: { content } });
  expect(response.status).toBe(201);
  const started = await response.json();
  const events = await EventStreamReader.open(client, started.conversation.id, 0);
  readers.push(events);
  return { ...started, events } as {
    conversation: { id: string; title: string };
    message: { text: string };
    run: { id: string; state: string };
    events: EventStreamReader;
  };
}

async function send(conversationId: string, content: string) {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
}

async function listedTitles(archived = false): Promise<string[]> {
  const page = await (await client.get(`/api/conversations?archived=${archived}`)).json();
  return page.conversations.map((c: { title: string }) => c.title);
}

async function stored(conversationId: string) {
  const [row] = await server.services.db.select().from(conversations).where(eq(conversations.id, conversationId));
  return row!;
}

/** The events' titles, in order. */
function titlesIn(events: EventStreamReader): string[] {
  return events.events.filter((e) => e.kind === "conversation_updated").map((e) => String(e.payload.title));
}

/**
 * An OpenAI-compatible provider of our own: streamed requests (the reply) answer "Happy to help.", non-streamed
 * ones (the title) answer `title`, or fail with a 500 when it is null.
 */
async function useOwnProvider(title: string | null) {
  const local = await startLocalHttp((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (part) => (raw += part));
    req.on("end", () => {
      const body = JSON.parse(raw || "{}");
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: "own", object: "chat.completion.chunk", created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.end(`${chunk({ role: "assistant", content: "Happy to help." }, null)}${chunk({}, "stop")}data: [DONE]\n\n`);
        return;
      }
      if (title === null) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "down", type: "server_error" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "own-title",
          object: "chat.completion",
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: title }, finish_reason: "stop" }],
          usage: { prompt_tokens: 40, completion_tokens: 5, total_tokens: 45 },
        }),
      );
    });
  });
  locals.push(local);
  const created = await client.post("/api/providers", {
    name: "Own",
    baseUrl: `${local.url}/v1`,
    modelAllowlist: ["own-model"],
  });
  expect(created.status).toBe(201);
  expect((await client.patch("/api/account/settings", { defaultModel: "own-model" })).status).toBe(200);
  return local;
}

describe("starting a conversation with its first message", () => {
  it("creates the conversation and sends the message in one request; the reply follows", async () => {
    const started = await start("What is the capital of Portugal?");
    expect(started.conversation.title).toBe("What is the capital of Portugal?");
    expect(started.message.text).toBe("What is the capital of Portugal?");
    expect(started.run.state).toBe("queued");
    await started.events.runsEnded(1);
    const page = await (await client.get(`/api/conversations/${started.conversation.id}/messages`)).json();
    expect(page.messages.map((m: { role: string; text: string }) => [m.role, m.text])).toEqual([
      ["user", "What is the capital of Portugal?"],
      ["assistant", "Mock reply: What is the capital of Portugal?"],
    ]);
    expect(await listedTitles()).toEqual(["What is the capital of Portugal?"]);
  });

  it("leaves nothing behind when the message is invalid or the agent unknown", async () => {
    const empty = await client.post("/api/conversations", { agentProgramId: agentId, message: { content: "  " } });
    expect(empty.status).toBe(422);
    expect((await empty.json()).error.fields).toEqual({ "message.content": "is required" });
    const unknown = await client.post("/api/conversations", {
      agentProgramId: "00000000-0000-7000-8000-000000000000",
      message: { content: "Hello" },
    });
    expect(unknown.status).toBe(422);
    expect(await server.services.db.select().from(conversations)).toEqual([]);
  });

  it("does not list a conversation that has no message yet", async () => {
    const created = await client.post("/api/conversations", { agentProgramId: agentId });
    expect(created.status).toBe(201);
    expect((await created.json()).title).toBe("New conversation");
    expect(await listedTitles()).toEqual([]);
  });
});

describe("conversation titles", () => {
  it("uses the first sentence, cut at a word boundary", () => {
    expect(titleFromMessage("Plan my week. Then email Sam about it.")).toBe("Plan my week");
    expect(titleFromMessage("  Hi!  How are you today, old friend? ")).toBe("Hi! How are you today, old friend?");
    const long = titleFromMessage(
      "Could you compare the trade-offs between PostgreSQL logical replication and physical streaming replication",
    );
    expect(long).toBe("Could you compare the trade-offs between PostgreSQL…");
    expect(long.length).toBeLessThanOrEqual(60);
    expect(cleanTitle('"Trip to Lisbon in May."\nExtra line')).toBe("Trip to Lisbon in May");
    expect(cleanTitle("Title: One two three four five six seven eight")).toBe("One two three four five six");
  });

  it("names the conversation from the first message when the model is the mock, and says so in an event", async () => {
    const started = await start("Plan a weekend in Lisbon. We like food and walking.");
    await started.events.runsEnded(1);
    // The send named it and said so; after the reply that name is settled (no model call, nothing new to say).
    await vi.waitFor(async () => expect((await stored(started.conversation.id)).titleSource).toBe("generated"));
    expect((await stored(started.conversation.id)).title).toBe("Plan a weekend in Lisbon");
    expect(titlesIn(started.events)).toEqual(["Plan a weekend in Lisbon"]);
  });

  it("asks the conversation's model for a short title after the first reply", async () => {
    const provider = await useOwnProvider('"Weekend Plans in Lisbon."');
    const started = await start("Plan a weekend in Lisbon. We like food and walking.");
    const event = await started.events.waitFor(
      (e) => e.kind === "conversation_updated" && e.payload.title !== "Plan a weekend in Lisbon",
    );
    expect(event.payload).toEqual({ title: "Weekend Plans in Lisbon" });
    expect((await stored(started.conversation.id)).title).toBe("Weekend Plans in Lisbon");
    expect(provider.requests.map((r) => r.url)).toEqual(["/v1/chat/completions", "/v1/chat/completions"]);

    // Later replies leave the title alone.
    await send(started.conversation.id, "And in rainy weather?");
    await started.events.runsEnded(2);
    expect(provider.requests).toHaveLength(3);
  });

  it("keeps the first message's words when the title call fails", async () => {
    const provider = await useOwnProvider(null);
    const started = await start("Plan a weekend in Lisbon. We like food and walking.");
    await started.events.runsEnded(1);
    await vi.waitFor(async () => expect((await stored(started.conversation.id)).titleSource).toBe("generated"));
    expect((await stored(started.conversation.id)).title).toBe("Plan a weekend in Lisbon");
    expect(provider.requests).toHaveLength(2); // the reply, then the title call that failed
  });

  it("never overwrites a title the person wrote", async () => {
    const provider = await useOwnProvider("Generated Title");
    const created = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
    expect((await client.patch(`/api/conversations/${created.id}`, { title: "My own name" })).status).toBe(200);
    const events = await EventStreamReader.open(client, created.id, 0);
    readers.push(events);
    await send(created.id, "Plan a weekend in Lisbon.");
    await events.runsEnded(1);
    expect(titlesIn(events)).toEqual(["My own name"]);
    expect(await retitle(server.services, created.id, "Generated Title", "generated")).toBeUndefined();
    expect((await stored(created.id)).title).toBe("My own name");
    expect(provider.requests).toHaveLength(1); // the reply only: no title call
  });
});

describe("recency", () => {
  it("orders by the last message: renaming, archiving and restoring move nothing", async () => {
    const first = await start("First conversation");
    await first.events.runsEnded(1);
    const second = await start("Second conversation");
    await second.events.runsEnded(1);
    expect(await listedTitles()).toEqual(["Second conversation", "First conversation"]);

    expect((await client.patch(`/api/conversations/${first.conversation.id}`, { title: "Renamed" })).status).toBe(200);
    expect((await client.post(`/api/conversations/${second.conversation.id}/archival`)).status).toBe(200);
    expect(await listedTitles()).toEqual(["Renamed"]);
    expect((await client.delete(`/api/conversations/${second.conversation.id}/archival`)).status).toBe(200);
    expect(await listedTitles()).toEqual(["Second conversation", "Renamed"]);

    await send(first.conversation.id, "Back to the first");
    expect(await listedTitles()).toEqual(["Renamed", "Second conversation"]);
  });

  it("answers the latest run of any conversation, whatever was renamed since", async () => {
    expect(await (await client.get("/api/runs/latest")).json()).toBeNull();
    const first = await start("First conversation");
    await first.events.runsEnded(1);
    const second = await start("Second conversation");
    await second.events.runsEnded(1);
    await send(first.conversation.id, "Again");
    const [, again] = await first.events.runsEnded(2);
    // Renaming the other conversation used to put it first, and the dashboard showed its older run.
    await client.patch(`/api/conversations/${second.conversation.id}`, { title: "Renamed" });
    const latest = await (await client.get("/api/runs/latest")).json();
    expect(latest.run.id).toBe(again!.run_id);
    expect(latest.conversation).toEqual({ id: first.conversation.id, title: "First conversation" });
    expect(latest.llmCalls).toHaveLength(1);
  });
});
