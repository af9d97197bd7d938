import { z } from "zod";
import * as memory from "../memory/index.js";
import { defineTool } from "./define.js";

export const memorySearchTool = defineTool("memory_search", {
  title: ({ query }) => `Searched memory for “${query}”`,
  idempotent: true,
  description: [
    "Search your long-term memory: facts, preferences and notes saved earlier with memory_store, in this or any",
    "past conversation. Matches by meaning and by words, best first. Search before answering questions about the",
    "user or about earlier work, and before storing something, to avoid duplicates. Each hit shows its id (for",
    "memory_forget), when it was saved and its metadata.",
  ].join(" "),
  parameters: z.object({
    query: memory.memorySearchInput.shape.query.describe("What to look for, in plain words (a question or keywords)."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(memory.MAX_SEARCH_LIMIT)
      .optional()
      .describe(`How many memories to return, 1–${memory.MAX_SEARCH_LIMIT} (default 5).`),
    metadataFilter: memory.memoryMetadata
      .optional()
      .describe('Only memories whose metadata contains these keys and values, e.g. {"kind": "preference"}.'),
  }),
  async execute(args, context) {
    const deps = { database: context.services.database, log: context.log, embedder: context.embedder };
    const { hits, mode } = await memory.search(deps, memory.agentScope(context), args);
    const metadata = { mode, ids: hits.map((h) => h.id) };
    if (!hits.length) return { summary: "No memories matched", output: "No memories matched.", metadata };
    const lines = hits.map((hit, i) => {
      const tags = Object.keys(hit.metadata).length ? ` · ${JSON.stringify(hit.metadata)}` : "";
      return `[${i + 1}] id=${hit.id} · saved ${hit.createdAt.slice(0, 10)}${tags}\n${hit.content}`;
    });
    return {
      summary: `${hits.length} ${hits.length === 1 ? "memory" : "memories"} found`,
      output: lines.join("\n\n"),
      metadata,
    };
  },
});
