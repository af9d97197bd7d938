import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { agentMemoryEntries } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import { embedChecked, isZeroVector } from "./embedder.js";
import {
  entryColumns,
  inScope,
  type MemoryDeps,
  type MemoryEntry,
  type MemoryListInput,
  type MemoryScope,
  type MemoryStoreInput,
  memoryListInput,
  memoryStoreInput,
  presentEntry,
} from "./entries.js";
import { storeEmbedding, vectorState } from "./vector.js";

/**
 * Memory: what an agent program chooses to remember, found again by meaning (pgvector) and by words (Postgres
 * full-text search). Every verb takes a scope; nothing reads or deletes across agent programs.
 */

export type { Embedder } from "./embedder.js";
export * from "./entries.js";
export { providerEmbedder } from "./provider-embedder.js";
export { type MemoryHit, type MemorySearchResult, search } from "./search.js";
export { ensureVectorFeatures, FULL_TEXT_ONLY_WARNING } from "./vector.js";

/**
 * Remembers one thing. The embedding is made first, outside any write; when the embedder fails the entry is
 * still kept (found by words only) and `embedded` says so.
 */
export async function store(
  deps: MemoryDeps,
  scope: MemoryScope,
  input: MemoryStoreInput,
): Promise<MemoryEntry & { embedded: boolean }> {
  const { content, metadata = {} } = memoryStoreInput.parse(input);
  const vector = await embeddingFor(deps, content);
  const [row] = await deps.database.db
    .insert(agentMemoryEntries)
    .values({
      id: uuidv7(),
      accountId: scope.accountId,
      agentProgramId: scope.agentProgramId,
      conversationId: scope.conversationId ?? null,
      content,
      metadata,
    })
    .returning(entryColumns);
  if (vector && deps.embedder) {
    await storeEmbedding(
      deps.database,
      { id: row!.id, agentProgramId: scope.agentProgramId },
      deps.embedder.model,
      vector,
    );
  }
  return { ...presentEntry(row!), embedded: Boolean(vector) };
}

/** The content's vector, or undefined when there is no embedder, no pgvector, or the embedder failed. */
async function embeddingFor(deps: MemoryDeps, text: string): Promise<number[] | undefined> {
  if (!deps.embedder || !(await vectorState(deps.database)).available) return undefined;
  try {
    const [vector] = await embedChecked(deps.embedder, [text]);
    return vector && !isZeroVector(vector) ? vector : undefined;
  } catch (error) {
    deps.log.warn({ err: error, model: deps.embedder.model }, "memory embedding failed; kept for full-text search");
    return undefined;
  }
}

/** Deletes one entry of this scope. Another program's entry is "not found", exactly like a missing one. */
export async function forget(deps: Pick<MemoryDeps, "database">, scope: MemoryScope, id: string): Promise<void> {
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("Memory entry");
  const deleted = await deps.database.db
    .delete(agentMemoryEntries)
    .where(and(inScope(scope), eq(agentMemoryEntries.id, id)))
    .returning({ id: agentMemoryEntries.id });
  if (!deleted.length) throw new NotFoundError("Memory entry");
}

/** Newest first, a page at a time (for the memory screen). */
export async function list(
  deps: Pick<MemoryDeps, "database">,
  scope: MemoryScope,
  input: MemoryListInput = {},
): Promise<{ entries: MemoryEntry[]; olderCursor: string | null }> {
  const { before, limit } = memoryListInput.parse(input);
  const rows = await deps.database.db
    .select(entryColumns)
    .from(agentMemoryEntries)
    .where(and(inScope(scope), before ? lt(agentMemoryEntries.id, before) : undefined))
    .orderBy(desc(agentMemoryEntries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { entries: page.map(presentEntry), olderCursor: rows.length > limit ? page.at(-1)!.id : null };
}
