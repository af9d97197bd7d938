import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renameConversation } from "../conversations/index.js";
import { conversations } from "../db/schema.js";
import { defaultAssistantId } from "../testing/agents.js";
import { startSignedIn, type TestClient, type TestResponse, type TestServer } from "../testing/harness.js";

/** PostgreSQL cannot store either; before the schemas refused them, each of these answered 500. */
const NUL = "a\u0000b";
const LONE_SURROGATE = "a\ud800b";
const REFUSED = "must not contain NUL characters or unpaired surrogates";

let server: TestServer;
let client: TestClient;
let conversationId: string;

beforeAll(async () => {
  ({ server, client } = await startSignedIn());
  const agentId = await defaultAssistantId(server.services.db);
  const created = await client.post("/api/conversations", { agentProgramId: agentId, title: "Kept" });
  conversationId = (await created.json()).id;
});
afterAll(async () => {
  await server?.close();
});

async function expectRefused(response: TestResponse, field: string) {
  expect(response.status).toBe(422);
  expect((await response.json()).error.fields).toEqual({ [field]: REFUSED });
}

async function eventCount(): Promise<number> {
  const page = await (await client.get(`/api/conversations/${conversationId}/events/poll?cursor=0`)).json();
  return page.events.length;
}

describe("text the database cannot store", () => {
  it.each([
    ["NUL", NUL],
    ["a lone surrogate", LONE_SURROGATE],
  ])(
    "is refused with a field error in a message, a title, a provider, an agent, settings and login (%s)",
    async (_, bad) => {
      const events = await eventCount();
      await expectRefused(
        await client.post(`/api/conversations/${conversationId}/messages`, { content: bad }),
        "content",
      );
      await expectRefused(await client.patch(`/api/conversations/${conversationId}`, { title: bad }), "title");
      const conversation = await (await client.get(`/api/conversations/${conversationId}`)).json();
      expect(conversation.conversation.title).toBe("Kept");
      expect((await (await client.get(`/api/conversations/${conversationId}/messages`)).json()).messages).toEqual([]);
      expect(await eventCount()).toBe(events);

      const providers = (await (await client.get("/api/providers")).json()).providers;
      await expectRefused(
        await client.post("/api/providers", { name: bad, baseUrl: "http://127.0.0.1:1/v1", modelAllowlist: ["m"] }),
        "name",
      );
      await expectRefused(
        await client.post("/api/providers", { name: "p", baseUrl: "http://127.0.0.1:1/v1", modelAllowlist: [bad] }),
        "modelAllowlist.0",
      );
      await expectRefused(
        await client.patch(`/api/providers/${providers[0].id}`, { headers: { "X-Title": bad } }),
        "headers.X-Title",
      );
      expect((await (await client.get("/api/providers")).json()).providers).toEqual(providers);

      await expectRefused(
        await client.post("/api/agents", { name: "ok", profile: "default-assistant", description: bad }),
        "description",
      );
      await expectRefused(await client.patch("/api/account/settings", { defaultModel: bad }), "defaultModel");

      const stranger = server.client();
      await expectRefused(
        await stranger.post("/api/session", { email: `owner${bad}@example.com`, password: "x" }),
        "email",
      );
    },
  );

  it("is refused in query strings: conversation and agent search, model resolution", async () => {
    await expectRefused(await client.get("/api/conversations?q=a%00b"), "q");
    await expectRefused(await client.get("/api/agents?q=a%00b"), "q");
    await expectRefused(await client.get("/api/providers/resolution?models=a%00b"), "models");
    // A surrogate's UTF-8 bytes are not valid UTF-8: decoding gives U+FFFD, which searches like any text.
    expect((await client.get("/api/conversations?q=%ED%A0%80")).status).toBe(200);
  });

  it("renames a conversation and records its event together, or neither", async () => {
    const [row] = await server.services.db.select().from(conversations).where(eq(conversations.id, conversationId));
    const events = await eventCount();
    // Past the schema (a verb called directly): the event insert fails, and the title must not change alone.
    await expect(renameConversation(server.services, row!, LONE_SURROGATE)).rejects.toThrow();
    const [after] = await server.services.db.select().from(conversations).where(eq(conversations.id, conversationId));
    expect(after!.title).toBe(row!.title);
    expect(await eventCount()).toBe(events);
  });

  it("still renames a conversation and records the event with the new title", async () => {
    const events = await eventCount();
    const response = await client.patch(`/api/conversations/${conversationId}`, { title: "Renamed 🚀" });
    expect(response.status).toBe(200);
    expect((await response.json()).title).toBe("Renamed 🚀");
    const page = await (await client.get(`/api/conversations/${conversationId}/events/poll?cursor=0`)).json();
    expect(page.events).toHaveLength(events + 1);
    expect(page.events.at(-1)).toMatchObject({ kind: "conversation_updated", payload: { title: "Renamed 🚀" } });
  });
});
