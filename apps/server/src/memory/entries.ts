import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/index.js";
import { agentMemoryEntries } from "../db/schema.js";
import type { Logger } from "../log.js";
import type { Embedder } from "./embedder.js";

/** A memory entry's inputs, presented shape and scope: shared by the verbs, the tools and (later) routes. */

/** Whose memory: an agent program of an account; `conversationId` records where an entry was learned. */
export interface MemoryScope {
  accountId: string;
  agentProgramId: string;
  conversationId?: string | null;
}

/** What the verbs need from the world. Without an embedder, entries are stored unembedded and found by words. */
export interface MemoryDeps {
  database: Database;
  log: Logger;
  embedder?: Embedder;
}

const MAX_METADATA_JSON = 4_000;

const metadataScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Flat labels (values: scalars or lists of them): easy to filter with @>, and a plain JSON Schema for models. */
export const memoryMetadata = z
  .record(z.string(), z.union([metadataScalar, z.array(metadataScalar)]))
  .refine((value) => JSON.stringify(value).length <= MAX_METADATA_JSON, {
    message: `must be at most ${MAX_METADATA_JSON} characters as JSON`,
  });

export const memoryStoreInput = z.object({
  content: z.string().trim().min(1, "must not be empty").max(10_000),
  metadata: memoryMetadata.optional(),
});
export type MemoryStoreInput = z.input<typeof memoryStoreInput>;

export const MAX_SEARCH_LIMIT = 20;

export const memorySearchInput = z.object({
  query: z.string().trim().min(1, "must not be empty").max(2_000),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(5),
  metadataFilter: memoryMetadata.optional(),
});
export type MemorySearchInput = z.input<typeof memorySearchInput>;

export const memoryListInput = z.object({
  /** An entry id: answers entries older than it (ids are UUIDv7, so they sort by time). */
  before: z.uuid().optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type MemoryListInput = z.input<typeof memoryListInput>;

export interface MemoryEntry {
  id: string;
  content: string;
  metadata: Record<string, unknown>;
  conversationId: string | null;
  createdAt: string;
}

type EntryRow = typeof agentMemoryEntries.$inferSelect;

export function presentEntry(row: Pick<EntryRow, "id" | "content" | "metadata" | "conversationId" | "createdAt">) {
  return {
    id: row.id,
    content: row.content,
    metadata: row.metadata,
    conversationId: row.conversationId,
    createdAt: row.createdAt.toISOString(),
  } satisfies MemoryEntry;
}

export const entryColumns = {
  id: agentMemoryEntries.id,
  content: agentMemoryEntries.content,
  metadata: agentMemoryEntries.metadata,
  conversationId: agentMemoryEntries.conversationId,
  createdAt: agentMemoryEntries.createdAt,
};

export function inScope(scope: MemoryScope) {
  return and(
    eq(agentMemoryEntries.accountId, scope.accountId),
    eq(agentMemoryEntries.agentProgramId, scope.agentProgramId),
  );
}

/** The scope of a running agent (a ToolContext has this shape): its program's memory, learned in this conversation. */
export function agentScope(context: {
  account: { id: string };
  agent: { id: string };
  conversationId?: string | null;
}): MemoryScope {
  return { accountId: context.account.id, agentProgramId: context.agent.id, conversationId: context.conversationId };
}
