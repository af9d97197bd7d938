import { z } from "zod";
import * as memory from "../memory/index.js";
import { defineTool, oneLine } from "./define.js";

export const memoryStoreTool = defineTool("memory_store", {
  title: () => "Saved to memory",
  description: [
    "Save one thing to your long-term memory so you can find it in later conversations with memory_search.",
    "Store durable, self-contained facts (who the user is, preferences, decisions, commitments, lessons learned),",
    'one fact per call, written so it makes sense on its own later ("The user\'s daughter is called Mia", not',
    '"her name is Mia"). Do not store secrets such as passwords or keys, or what is only relevant right now.',
  ].join(" "),
  parameters: z.object({
    content: memory.memoryStoreInput.shape.content.describe("The fact or note, self-contained."),
    metadata: memory.memoryMetadata
      .optional()
      .describe('Optional labels to filter on later, e.g. {"kind": "preference", "topic": "food"}.'),
  }),
  async execute(args, context) {
    const deps = { database: context.services.database, log: context.log, embedder: context.embedder };
    const entry = await memory.store(deps, memory.agentScope(context), args);
    return {
      summary: oneLine(args.content),
      output: `Stored memory ${entry.id}.`,
      metadata: { id: entry.id, embedded: entry.embedded },
    };
  },
});
