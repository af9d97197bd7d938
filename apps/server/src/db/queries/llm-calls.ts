import { asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../index.js";
import { llmCalls, llmProviders, nodes } from "../schema.js";
import { builtOnce, columnPlaceholders, statementTemplate, type Write } from "../statements.js";

/** One row per provider call: what was sent (section hashes), what it cost, how fast it was. */

export type LlmCallRow = typeof llmCalls.$inferSelect;

const latestOfRunQuery = builtOnce((db) =>
  db
    .select({ model: llmCalls.model, provider: llmProviders, reply: nodes.content })
    .from(llmCalls)
    .innerJoin(llmProviders, eq(llmProviders.id, llmCalls.providerId))
    .innerJoin(nodes, eq(nodes.id, llmCalls.nodeId))
    .where(eq(llmCalls.runId, sql.placeholder("runId")))
    .orderBy(desc(llmCalls.createdAt))
    .limit(1)
    .prepare("latest_llm_call_of_run"),
);

/** Statements that run when called. */
export function llmCallQueries(db: Db) {
  return {
    /** The run's provider calls, in order. */
    ofRun(runId: string): Promise<LlmCallRow[]> {
      return db.select().from(llmCalls).where(eq(llmCalls.runId, runId)).orderBy(asc(llmCalls.createdAt));
    },

    /** The run's latest provider call: its model and provider, and the reply it wrote. */
    async latestOfRun(runId: string) {
      const [call] = await latestOfRunQuery(db).execute({ runId });
      return call;
    },
  };
}

const writeTemplates = builtOnce((db) => ({
  insert: statementTemplate<LlmCallRow>(db.insert(llmCalls).values(columnPlaceholders(llmCalls))),
}));

/** Writes for a batch (Database.write). */
export function llmCallWrites(db: Db) {
  const templates = writeTemplates(db);
  return {
    insert: (call: LlmCallRow): Write => templates.insert(call),
  };
}
