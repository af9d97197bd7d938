import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { agentPrograms } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import { embedText } from "../mock-llm/embeddings.js";
import { serveMockLlm } from "../mock-llm/serve.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import {
  type Embedder,
  FULL_TEXT_ONLY_WARNING,
  forget,
  list,
  type MemoryScope,
  providerEmbedder,
  search,
  store,
} from "./index.js";
import { ensureVectorFeatures, hnswIndexName } from "./vector.js";

/** The mock LLM's feature hashing: texts sharing words land close together. */
const hashing: Embedder = {
  model: "mock-hashing-256",
  dimension: 256,
  embed: async (texts) => texts.map((text) => embedText(text, 256)),
};

/** A model that knows two words mean the same thing, which no full-text search can know. */
const synonyms: Embedder = {
  model: "mock-synonyms-64",
  dimension: 64,
  embed: async (texts) => texts.map((text) => embedText(text.replace(/\bautomobile\b/gi, "car"), 64)),
};

const broken: Embedder = {
  model: "mock-broken",
  dimension: 8,
  embed: async () => {
    throw new Error("provider is down");
  },
};

let server: TestServer;
let startupLogs: Record<string, unknown>[];

beforeAll(async () => {
  server = await startTestServer();
  startupLogs = server.logs();
});
afterAll(async () => {
  await server?.close();
});

async function newAgentScope(): Promise<MemoryScope> {
  const account = await defaultAccount(server.services.db);
  const id = uuidv7();
  await server.services.db.insert(agentPrograms).values({
    id,
    accountId: account.id,
    name: `memory-test-${id}`,
    profileSource: `copy:${id}`,
    localPath: `/tmp/${id}`,
  });
  return { accountId: account.id, agentProgramId: id };
}

function deps(embedder?: Embedder) {
  return { database: server.services.database, log: server.services.log, embedder };
}

describe("memory without an embedder (full-text)", () => {
  it("finds a stored entry by a word of it, stemmed", async () => {
    const scope = await newAgentScope();
    const stored = await store(deps(), scope, { content: "The user's cats sleep on warm windowsills" });
    await store(deps(), scope, { content: "The user prefers tea over coffee" });
    expect(stored.embedded).toBe(false);

    const result = await search(deps(), scope, { query: "Where does the cat sleep?" });
    expect(result.mode).toBe("full-text");
    expect(result.hits.map((h) => h.id)).toEqual([stored.id]);
    expect(result.hits[0]).toMatchObject({ content: stored.content, matchedBy: ["words"] });
  });

  it("ranks entries sharing more query words first", async () => {
    const scope = await newAgentScope();
    const one = await store(deps(), scope, { content: "Project deadline is in March" });
    const both = await store(deps(), scope, { content: "The Apollo project deadline moved to April" });
    const result = await search(deps(), scope, { query: "apollo deadline" });
    expect(result.hits.map((h) => h.id)).toEqual([both.id, one.id]);
  });

  it("answers nothing for a query of punctuation, and nothing from an empty memory", async () => {
    const scope = await newAgentScope();
    expect((await search(deps(), scope, { query: "?!" })).hits).toEqual([]);
    expect((await search(deps(), scope, { query: "anything" })).hits).toEqual([]);
  });
});

describe("memory scope", () => {
  it("keeps one agent program's memory away from another's", async () => {
    const alice = await newAgentScope();
    const bob = await newAgentScope();
    const secret = await store(deps(hashing), alice, { content: "The launch code word is marmalade" });

    expect((await search(deps(hashing), bob, { query: "launch code word marmalade" })).hits).toEqual([]);
    expect((await list(deps(), bob)).entries).toEqual([]);
    await expect(forget(deps(), bob, secret.id)).rejects.toBeInstanceOf(NotFoundError);

    expect((await search(deps(hashing), alice, { query: "marmalade" })).hits.map((h) => h.id)).toEqual([secret.id]);
  });

  it("forgets only in scope, and a forgotten entry is gone from search and list", async () => {
    const scope = await newAgentScope();
    const keep = await store(deps(hashing), scope, { content: "Dentist appointment on Friday" });
    const drop = await store(deps(hashing), scope, { content: "Dentist is Dr. Chen" });
    await forget(deps(), scope, drop.id);

    expect((await list(deps(), scope)).entries.map((e) => e.id)).toEqual([keep.id]);
    expect((await search(deps(hashing), scope, { query: "dentist" })).hits.map((h) => h.id)).toEqual([keep.id]);
    await expect(forget(deps(), scope, drop.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(forget(deps(), scope, "not-a-uuid")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("memory filters and limits", () => {
  it("filters by metadata containment", async () => {
    const scope = await newAgentScope();
    const preference = await store(deps(hashing), scope, {
      content: "Likes jazz music in the evening",
      metadata: { kind: "preference", source: "chat" },
    });
    await store(deps(hashing), scope, { content: "Jazz festival is in July", metadata: { kind: "fact" } });

    const filtered = await search(deps(hashing), scope, { query: "jazz", metadataFilter: { kind: "preference" } });
    expect(filtered.hits.map((h) => h.id)).toEqual([preference.id]);
    expect(filtered.hits[0]!.metadata).toEqual({ kind: "preference", source: "chat" });
    expect((await search(deps(hashing), scope, { query: "jazz" })).hits).toHaveLength(2);
  });

  it("answers 5 hits by default, at most 20, and refuses a larger limit", async () => {
    const scope = await newAgentScope();
    for (let i = 0; i < 25; i++) await store(deps(), scope, { content: `Reminder number ${i} about the garden` });
    expect((await search(deps(), scope, { query: "garden" })).hits).toHaveLength(5);
    expect((await search(deps(), scope, { query: "garden", limit: 20 })).hits).toHaveLength(20);
    await expect(search(deps(), scope, { query: "garden", limit: 21 })).rejects.toThrow(/20/);
  });

  it("lists newest first, a page at a time", async () => {
    const scope = await newAgentScope();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store(deps(), scope, { content: `entry ${i}` })).id);
    const first = await list(deps(), scope, { limit: 3 });
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(2).reverse());
    const second = await list(deps(), scope, { limit: 3, before: first.olderCursor! });
    expect(second.entries.map((e) => e.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.olderCursor).toBeNull();
  });

  it("refuses empty content and oversized metadata", async () => {
    const scope = await newAgentScope();
    await expect(store(deps(), scope, { content: "   " })).rejects.toThrow(/empty/);
    await expect(store(deps(), scope, { content: "x", metadata: { blob: "y".repeat(5_000) } })).rejects.toThrow(/4000/);
  });
});

describe("memory with vectors", () => {
  it("finds by meaning what no word matches, and fuses both signals (full-text only without pgvector)", async () => {
    const scope = await newAgentScope();
    const car = await store(deps(synonyms), scope, { content: "The user drives a red car to work" });
    const bike = await store(deps(synonyms), scope, { content: "The user rides a bike on weekends" });
    expect(car.embedded).toBe(server.services.database.vector);
    expect((await search(deps(), scope, { query: "automobile" })).hits).toEqual([]);

    const hybrid = await search(deps(synonyms), scope, { query: "automobile" });
    if (!server.services.database.vector) {
      expect(hybrid).toEqual({ mode: "full-text", hits: [] });
      return;
    }
    expect(hybrid.mode).toBe("hybrid");
    expect(hybrid.hits[0]).toMatchObject({ id: car.id, matchedBy: ["meaning"] });
    expect(hybrid.hits[0]!.similarity!).toBeGreaterThan(hybrid.hits.find((h) => h.id === bike.id)?.similarity ?? 0);

    // Found by both signals, an entry outranks one found by meaning alone.
    const both = await search(deps(synonyms), scope, { query: "red car" });
    expect(both.hits[0]).toMatchObject({ id: car.id, matchedBy: ["meaning", "words"] });
    expect(both.hits[0]!.score).toBeGreaterThan(both.hits[1]!.score);
  });

  it("indexes each dimension with HNSW (cosine), and has no vector table without pgvector", async () => {
    const scope = await newAgentScope();
    await store(deps(hashing), scope, { content: "indexed" });
    const { rows } = await server.services.database.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
      [hnswIndexName(256)],
    );
    if (!server.services.database.vector) {
      expect(rows).toEqual([]);
      const table = await server.services.database.query("SELECT to_regclass('agent_memory_embeddings') AS t");
      expect(table.rows[0]).toEqual({ t: null });
      return;
    }
    expect(rows[0]?.indexdef).toMatch(/USING hnsw .*vector\(256\).*vector_cosine_ops.*WHERE \(dimension = 256\)/);
  });

  it("never compares vectors of different models", async () => {
    const scope = await newAgentScope();
    const entry = await store(deps(hashing), scope, { content: "Quarterly report is due" });
    const other: Embedder = { ...hashing, model: "another-model-256" };
    const result = await search(deps(other), scope, { query: "quarterly report due" });
    // Found by words only: the other model has no vector for it.
    expect(result.hits).toEqual([expect.objectContaining({ id: entry.id, matchedBy: ["words"] })]);
  });
});

describe("memory when vectors cannot be used", () => {
  it("keeps the entry and searches by words when the embedder fails", async () => {
    const scope = await newAgentScope();
    const entry = await store(deps(broken), scope, { content: "Allergic to peanuts" });
    expect(entry.embedded).toBe(false);
    const result = await search(deps(broken), scope, { query: "peanuts" });
    expect(result.mode).toBe("full-text");
    expect(result.hits.map((h) => h.id)).toEqual([entry.id]);
  });

  it("without pgvector: warns once at start and searches by words with an embedder", async () => {
    const withoutVector = { ...server.services.database, vector: false };
    const before = server.logs().length;
    await ensureVectorFeatures(withoutVector, server.services.log);
    const warnings = server.logs().slice(before);
    expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: FULL_TEXT_ONLY_WARNING })]);

    const scope = await newAgentScope();
    const noVector = { database: withoutVector, log: server.services.log, embedder: hashing };
    const entry = await store(noVector, scope, { content: "Birthday is on the 9th of May" });
    expect(entry.embedded).toBe(false);
    const result = await search(noVector, scope, { query: "birthday" });
    expect(result).toMatchObject({ mode: "full-text", hits: [{ id: entry.id, matchedBy: ["words"] }] });
  });

  it("the server warns at start exactly when pgvector is missing", () => {
    const warned = startupLogs.some((line) => line.msg === FULL_TEXT_ONLY_WARNING);
    expect(warned).toBe(!server.services.database.vector);
  });
});

describe("memory with a provider's /embeddings", () => {
  it("embeds through the mock LLM and finds by meaning", async () => {
    const served = await serveMockLlm();
    try {
      const embedder = providerEmbedder({ baseUrl: served.baseUrl }, "mock-embedding", 256);
      const scope = await newAgentScope();
      const entry = await store(deps(embedder), scope, { content: "Green tea every morning" });
      await store(deps(embedder), scope, { content: "Runs five kilometres on Sundays" });
      expect(entry.embedded).toBe(server.services.database.vector);
      const result = await search(deps(embedder), scope, { query: "what does the user drink in the morning" });
      expect(result.hits[0]!.id).toBe(entry.id);
      if (!server.services.database.vector) return expect(result.mode).toBe("full-text");
      expect(result.mode).toBe("hybrid");
      const { rows } = await server.services.database.query<{ embedding: string }>(
        "SELECT embedding::text FROM agent_memory_embeddings WHERE entry_id = $1 AND model = 'mock-embedding'",
        [entry.id],
      );
      const stored = JSON.parse(rows[0]!.embedding) as number[];
      expect(stored).toHaveLength(256);
      const expected = embedText("Green tea every morning", 256);
      expect(Math.max(...stored.map((x, i) => Math.abs(x - expected[i]!)))).toBeLessThan(1e-6);
    } finally {
      await served.close();
    }
  });
});
