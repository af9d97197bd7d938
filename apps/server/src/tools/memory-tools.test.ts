import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as memory from "../memory/index.js";
import { embedText } from "../mock-llm/embeddings.js";
import { startSignedIn, type TestServer } from "../testing/harness.js";
import { runToolHere, toolContextFor } from "../testing/tool-context.js";
import { type ToolContext, toolJsonSchema } from "./define.js";
import { memoryForgetTool } from "./memory-forget.js";
import { memorySearchTool } from "./memory-search.js";
import { memoryStoreTool } from "./memory-store.js";

const hashing: memory.Embedder = {
  model: "mock-hashing-128",
  dimension: 128,
  embed: async (texts) => texts.map((text) => embedText(text, 128)),
};

let server: TestServer;

beforeAll(async () => {
  ({ server } = await startSignedIn());
});
afterAll(async () => {
  await server?.close();
});

async function storeVia(context: ToolContext, content: string, metadata?: Record<string, unknown>) {
  const result = await runToolHere(memoryStoreTool, { content, metadata }, context);
  expect(result.isError).toBeFalsy();
  return result.metadata!.id as string;
}

describe("memory tools", () => {
  it.each([
    ["with an embedder", hashing],
    ["without an embedder", undefined],
  ])("store then search round trip, %s", async (_label, embedder) => {
    const context = await toolContextFor(server, { embedder });
    const stored = await runToolHere(memoryStoreTool, { content: "The user's cat is named Miso" }, context);
    expect(memoryStoreTool.title({ content: "x" })).toBe("Saved to memory");
    expect(stored.summary).toBe("The user's cat is named Miso");
    expect(stored.isError).toBeFalsy();
    expect(stored.metadata!.embedded).toBe(Boolean(embedder) && server.services.database.vector);
    const id = stored.metadata!.id as string;
    expect(stored.output).toBe(`Stored memory ${id}.`);
    await storeVia(context, "The user works as a nurse");

    const found = await runToolHere(memorySearchTool, { query: "what is the cat called?" }, context);
    expect(found.summary).toMatch(/^\d memor(y|ies) found$/);
    expect(found.output.split("\n\n")[0]).toMatch(
      new RegExp(`^\\[1\\] id=${id} · saved \\d{4}-\\d{2}-\\d{2}\\nThe user's cat is named Miso$`),
    );
    expect(found.metadata!.mode).toBe(embedder && server.services.database.vector ? "hybrid" : "full-text");

    const entries = await memory.list({ database: server.services.database }, memory.agentScope(context));
    expect(entries.entries.find((e) => e.id === id)?.conversationId).toBe(context.conversationId);
  });

  it("shows metadata and filters on it", async () => {
    const context = await toolContextFor(server, { embedder: hashing });
    await storeVia(context, "Prefers window seats on flights", { kind: "preference" });
    await storeVia(context, "Flight to Lisbon on 3 June", { kind: "event" });
    const result = await runToolHere(
      memorySearchTool,
      { query: "flights", metadataFilter: { kind: "preference" }, limit: 5 },
      context,
    );
    expect(result.output).toMatch(/^\[1\] id=\S+ · saved \S+ · \{"kind":"preference"\}\nPrefers window seats/);
    expect(result.output).not.toContain("Lisbon");
  });

  it("forgets in its own agent's memory only", async () => {
    const mine = await toolContextFor(server, { embedder: hashing });
    const theirs = await toolContextFor(server, { embedder: hashing });
    const id = await storeVia(mine, "Passport expires in 2031");

    const refused = await runToolHere(memoryForgetTool, { id }, theirs);
    expect(refused).toMatchObject({ isError: true });
    expect(refused.output).toBe(`No memory with id ${id}: search again with memory_search to find the right id.`);
    expect((await runToolHere(memorySearchTool, { query: "passport" }, theirs)).output).toBe("No memories matched.");
    expect((await runToolHere(memorySearchTool, { query: "passport" }, mine)).metadata!.ids).toEqual([id]);

    const forgotten = await runToolHere(memoryForgetTool, { id }, mine);
    expect(forgotten).toMatchObject({ output: `Forgot memory ${id}.` });
    expect((await runToolHere(memorySearchTool, { query: "passport" }, mine)).output).toBe("No memories matched.");
  });

  it("answers argument errors the model can fix", async () => {
    const context = await toolContextFor(server);
    expect((await runToolHere(memoryStoreTool, { content: "  " }, context)).output).toBe(
      "Invalid arguments: content: must not be empty",
    );
    expect((await runToolHere(memorySearchTool, { query: "x", limit: 21 }, context)).output).toMatch(
      /^Invalid arguments: limit: .*20/,
    );
    expect((await runToolHere(memoryForgetTool, { id: "nope" }, context)).output).toMatch(/^No memory with id nope/);
  });

  it("offers the model a plain schema with only the needed fields required", () => {
    expect(toolJsonSchema(memorySearchTool)).toMatchObject({ required: ["query"] });
    expect(toolJsonSchema(memoryStoreTool)).toMatchObject({ required: ["content"] });
    expect(JSON.stringify(toolJsonSchema(memoryStoreTool))).not.toContain("$ref");
  });
});
