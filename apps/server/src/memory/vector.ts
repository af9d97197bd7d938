import { sql } from "drizzle-orm";
import type { Database } from "../db/index.js";
import type { Logger } from "../log.js";
import { vectorLiteral } from "./embedder.js";

/**
 * The pgvector half of memory, created outside the Drizzle migrations because the extension may be missing on
 * a PostgreSQL server (DESIGN.md §3). One untyped `vector` column holds every model's vectors; each dimension
 * gets its own partial HNSW index over `embedding::vector(D)` (cosine), created the first time that dimension is
 * stored. See docs/decisions/0001-memory-search.md.
 */

export const FULL_TEXT_ONLY_WARNING = "memory search uses full-text only: pgvector is not available";

/** HNSW indexes `vector` up to 2,000 dimensions; larger vectors are still stored and searched exactly. */
const MAX_HNSW_DIMENSION = 2_000;

interface VectorState {
  available: boolean;
  /** pgvector ≥ 0.8 keeps scanning the index until enough rows pass the scope filter. */
  iterativeScan: boolean;
  indexedDimensions: Set<number>;
}

const states = new WeakMap<Database, Promise<VectorState>>();

/**
 * Called once at start (server.ts): creates the embeddings table when pgvector is there, or warns that memory
 * search is full-text only. Idempotent; verbs call `vectorState` and so work on a database nobody prepared.
 */
export async function ensureVectorFeatures(database: Database, log: Logger): Promise<void> {
  const state = await vectorState(database);
  if (!state.available) log.warn({ vector: false }, FULL_TEXT_ONLY_WARNING);
}

export function vectorState(database: Database): Promise<VectorState> {
  let state = states.get(database);
  if (!state) {
    state = prepare(database);
    states.set(database, state);
    // A failed preparation (e.g. the database closed) is retried next time rather than remembered.
    state.catch(() => states.delete(database));
  }
  return state;
}

async function prepare(database: Database): Promise<VectorState> {
  if (!database.vector) return { available: false, iterativeScan: false, indexedDimensions: new Set() };
  // One statement under an advisory lock: processes starting together would race on IF NOT EXISTS.
  await database.exec(`
    DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('cybros.memory.embeddings'));
    CREATE TABLE IF NOT EXISTS agent_memory_embeddings (
      entry_id uuid NOT NULL REFERENCES agent_memory_entries(id) ON DELETE CASCADE,
      agent_program_id uuid NOT NULL,
      model text NOT NULL,
      dimension integer NOT NULL CHECK (dimension > 0),
      embedding vector NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (entry_id, model),
      CHECK (vector_dims(embedding) = dimension)
    );
    END $$;`);
  const { rows } = await database.query<{ extversion: string }>(
    "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
  );
  const [major = 0, minor = 0] = (rows[0]?.extversion ?? "0").split(".").map(Number);
  const indexes = await database.query<{ indexname: string }>(
    "SELECT indexname FROM pg_indexes WHERE tablename = 'agent_memory_embeddings' AND indexname LIKE 'agent_memory_embeddings_hnsw_%'",
  );
  const indexedDimensions = new Set(indexes.rows.map((r) => Number(r.indexname.split("_").at(-1))));
  return { available: true, iterativeScan: major > 0 || minor >= 8, indexedDimensions };
}

export function hnswIndexName(dimension: number): string {
  return `agent_memory_embeddings_hnsw_${dimension}`;
}

/** Every SQL that names `vector(D)` inlines D: casts take no parameters, and a partial index needs a literal. */
function checkedDimension(dimension: number): number {
  if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`invalid embedding dimension ${dimension}`);
  return dimension;
}

async function ensureDimensionIndex(database: Database, state: VectorState, dimension: number): Promise<void> {
  if (state.indexedDimensions.has(dimension) || dimension > MAX_HNSW_DIMENSION) return;
  const d = checkedDimension(dimension);
  try {
    await database.exec(
      `CREATE INDEX IF NOT EXISTS ${hnswIndexName(d)} ON agent_memory_embeddings
         USING hnsw ((embedding::vector(${d})) vector_cosine_ops) WHERE dimension = ${d}`,
    );
  } catch (error) {
    // Another process created it between our IF NOT EXISTS check and the insert into the catalog.
    const again = await database.query("SELECT 1 FROM pg_indexes WHERE indexname = $1", [hnswIndexName(d)]);
    if (!again.rows.length) throw error;
  }
  state.indexedDimensions.add(dimension);
}

export async function storeEmbedding(
  database: Database,
  entry: { id: string; agentProgramId: string },
  model: string,
  vector: number[],
): Promise<void> {
  const state = await vectorState(database);
  if (!state.available) return;
  await ensureDimensionIndex(database, state, vector.length);
  await database.query(
    `INSERT INTO agent_memory_embeddings (entry_id, agent_program_id, model, dimension, embedding)
     VALUES ($1, $2, $3, $4, $5::vector)
     ON CONFLICT (entry_id, model) DO UPDATE SET embedding = EXCLUDED.embedding, dimension = EXCLUDED.dimension`,
    [entry.id, entry.agentProgramId, model, vector.length, vectorLiteral(vector)],
  );
}

export interface VectorCandidate {
  id: string;
  /** Cosine similarity, 1 = same direction. */
  similarity: number;
}

/**
 * The entries of one agent program nearest to `vector` under `model`, best first. The ORDER BY repeats the
 * index expression so the HNSW index serves it; iterative scanning keeps the scope filter from starving it.
 */
export async function nearestEntries(
  database: Database,
  scope: { agentProgramId: string; metadataFilter?: Record<string, unknown> },
  model: string,
  vector: number[],
  limit: number,
): Promise<VectorCandidate[]> {
  const state = await vectorState(database);
  if (!state.available) return [];
  const d = checkedDimension(vector.length);
  const distance = sql.raw(`emb.embedding::vector(${d}) <=> `);
  const query = sql`${distance}${vectorLiteral(vector)}::vector(${sql.raw(String(d))})`;
  const filter = scope.metadataFilter
    ? sql`AND EXISTS (SELECT 1 FROM agent_memory_entries e WHERE e.id = emb.entry_id AND e.metadata @> ${JSON.stringify(scope.metadataFilter)}::jsonb)`
    : sql``;
  const rows = await database.db.transaction(async (tx) => {
    if (state.iterativeScan) await tx.execute(sql`SET LOCAL hnsw.iterative_scan = relaxed_order`);
    const result = await tx.execute(sql`
      SELECT emb.entry_id AS id, 1 - (${query}) AS similarity
      FROM agent_memory_embeddings emb
      WHERE emb.agent_program_id = ${scope.agentProgramId} AND emb.model = ${model}
        AND emb.dimension = ${sql.raw(String(d))} ${filter}
      ORDER BY ${query}
      LIMIT ${limit}`);
    return (result as unknown as { rows: { id: string; similarity: number | string }[] }).rows;
  });
  return rows.map((r) => ({ id: r.id, similarity: Number(r.similarity) }));
}
