import fs from "node:fs";
import path from "node:path";
import type { MessagePart, ToolCallPart } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";

let server: TestServer;
let client: TestClient;
const readers: EventStreamReader[] = [];

beforeEach(async () => {
  ({ server, client } = await startSignedIn());
  await server.url();
});
afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  await server.close();
});

/** A blank agent (it allows the agent_* tools), a conversation with it, and that conversation's event stream. */
async function chatWithBlankAgent(name: string) {
  const created = await client.post("/api/agents", { name, blank: true });
  expect(created.status).toBe(201);
  const agent = await created.json();
  const conversation = await client.post("/api/conversations", { agentProgramId: agent.id });
  expect(conversation.status).toBe(201);
  const id = (await conversation.json()).id as string;
  const events = await EventStreamReader.open(client, id, 0);
  readers.push(events);
  const folder = path.join(server.config.dataDir, "agents", name.toLowerCase());
  return { id, events, folder };
}

async function send(conversationId: string, content: string) {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
}

/** The system text of the last streamed (chat) request the mock received. */
function lastChatSystemText(): string {
  const request = server.services.mockLlm!.requests().findLast((r) => r.stream);
  return request!.messages
    .filter((m) => m.role === "system")
    .map((m) => String(m.content))
    .join("\n");
}

async function toolResults(conversationId: string) {
  const page = await (await client.get(`/api/conversations/${conversationId}/messages?limit=200`)).json();
  return (page.messages as { parts: MessagePart[] }[])
    .flatMap((m) => m.parts)
    .filter((p): p is ToolCallPart => p.type === "tool_call");
}

describe("an agent changing itself through the conversation", () => {
  it("edits SOUL.md and commits; the next turn's prompt carries the change", async () => {
    const { id, events, folder } = await chatWithBlankAgent("Shapeshifter");
    await send(
      id,
      [
        "/mock tool_calls",
        'agent_edit_self {"path":"SOUL.md","old_string":"Friendly, direct and honest.","new_string":"Be more concise from now on."}',
        'agent_commit {"message":"Be more concise"}',
      ].join("\n"),
    );
    await events.runsEnded(1);
    expect(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8")).toContain("Be more concise from now on.");
    const results = await toolResults(id);
    expect(results.map((r) => [r.name, r.state])).toEqual([
      ["agent_edit_self", "completed"],
      ["agent_commit", "completed"],
    ]);
    expect(results[1]!.result).toMatch(/^Committed [0-9a-f]{7}: Be more concise\nHealth check passed/);

    await send(id, "Hello again");
    await events.runsEnded(2);
    const system = lastChatSystemText();
    expect(system).toContain("Be more concise from now on.");
    expect(system).not.toContain("Friendly, direct and honest.");
  });

  it("reverts a scripted commit that breaks agent.yml, and the tool card says so", async () => {
    const { id, events, folder } = await chatWithBlankAgent("Fragile");
    const before = fs.readFileSync(path.join(folder, "agent.yml"), "utf8");
    await send(
      id,
      [
        "/mock tool_calls",
        `agent_write_self ${JSON.stringify({ path: "agent.yml", content: "name: Fragile\ntools: [oops\n" })}`,
        'agent_commit {"message":"Rewrite my manifest"}',
      ].join("\n"),
    );
    await events.runsEnded(1);
    expect(fs.readFileSync(path.join(folder, "agent.yml"), "utf8")).toBe(before);
    const commit = (await toolResults(id)).find((r) => r.name === "agent_commit")!;
    expect(commit.state).toBe("error");
    expect(commit.error).toContain("The health check then failed (load): agent.yml: line");
    expect(commit.error).toContain("The change was reverted automatically");

    await send(id, "Still there?");
    await events.runsEnded(2);
    expect(lastChatSystemText()).toContain("You are Fragile.");
  });
});
