import { and, inArray } from "drizzle-orm";
import type { Database } from "../db/index.js";
import { agentMemoryEntries } from "../db/schema.js";
import { embedChecked, isZeroVector } from "./embedder.js";
import {
  entryColumns,
  inScope,
  type MemoryDeps,
  type MemoryEntry,
  type MemoryScope,
  type MemorySearchInput,
  memorySearchInput,
  presentEntry,
} from "./entries.js";
import { nearestEntries, vectorState } from "./vector.js";

export interface MemoryHit extends MemoryEntry {
  /** Reciprocal-rank-fusion score: higher is better; only comparable within one search. */
  score: number;
  /** Cosine similarity to the query when the entry was found by meaning. */
  similarity?: number;
  matchedBy: ("meaning" | "words")[];
}

export interface MemorySearchResult {
  hits: MemoryHit[];
  /** "hybrid" when vectors took part; "full-text" without pgvector, embedder, or when embedding the query failed. */
  mode: "hybrid" | "full-text";
}

/** RRF's constant (Cormack et al. 2009): damps the head so one list's first place cannot drown the other list. */
const RRF_K = 60;
/** How deep each list is read before fusing: enough that an entry ranked well by one signal survives the cut. */
const CANDIDATES = 50;
/** How many of the newest entries holding any query word are ranked by ts_rank (see wordCandidates). */
const RECENT_WINDOW = 1_000;
/** Query words beyond this add cost and little recall. */
const MAX_QUERY_TERMS = 32;

/**
 * Finds this scope's entries for a query by meaning and by words, fused with reciprocal rank fusion: each list
 * contributes 1 / (60 + rank), so neither a cosine similarity nor a ts_rank needs calibrating against the other.
 */
export async function search(
  deps: MemoryDeps,
  scope: MemoryScope,
  input: MemorySearchInput,
): Promise<MemorySearchResult> {
  const { query, limit, metadataFilter } = memorySearchInput.parse(input);
  const [byWords, byMeaning] = await Promise.all([
    wordCandidates(deps.database, scope, query, metadataFilter),
    meaningCandidates(deps, scope, query, metadataFilter),
  ]);

  const fused = new Map<string, { score: number; similarity?: number; matchedBy: MemoryHit["matchedBy"] }>();
  const add = (id: string, rank: number, signal: "meaning" | "words", similarity?: number) => {
    const hit = fused.get(id) ?? { score: 0, matchedBy: [] };
    hit.score += 1 / (RRF_K + rank + 1);
    hit.matchedBy.push(signal);
    if (similarity !== undefined) hit.similarity = similarity;
    fused.set(id, hit);
  };
  for (const [rank, candidate] of (byMeaning ?? []).entries()) {
    add(candidate.id, rank, "meaning", candidate.similarity);
  }
  for (const [rank, id] of byWords.entries()) add(id, rank, "words");

  // Ties (an entry found by one signal at the same rank as another's) go to the newer entry: UUIDv7 sorts by time.
  const ranked = [...fused].sort(([a, x], [b, y]) => y.score - x.score || (a < b ? 1 : -1)).slice(0, limit);
  if (!ranked.length) return { hits: [], mode: byMeaning ? "hybrid" : "full-text" };
  const rows = await deps.database.db
    .select(entryColumns)
    .from(agentMemoryEntries)
    .where(
      and(
        inScope(scope),
        inArray(
          agentMemoryEntries.id,
          ranked.map(([id]) => id),
        ),
      ),
    );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const hits = ranked.flatMap(([id, hit]) => {
    const row = byId.get(id);
    return row ? [{ ...presentEntry(row), ...hit }] : [];
  });
  return { hits, mode: byMeaning ? "hybrid" : "full-text" };
}

/**
 * Full-text candidates. Entries holding every query word come first (precise, and selective so it is cheap);
 * then entries holding any word (OR), since a question rarely shares all its words with the fact that answers
 * it. The OR side ranks only the most recent RECENT_WINDOW matches: a common word ("user") matches a large share
 * of a big memory, and ranking all of those would cost time in proportion to the memory's size.
 * 'english' stems both sides ("cats" finds "cat") and drops stop words.
 */
async function wordCandidates(
  database: Database,
  scope: MemoryScope,
  query: string,
  metadataFilter: Record<string, unknown> | undefined,
): Promise<string[]> {
  // Letters and digits only, so nothing in the user's text can be read as tsquery syntax.
  const terms = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
  if (!terms.length) return [];
  const every = terms.length > 1 ? await rankedMatches(database, scope, terms.join(" & "), metadataFilter) : [];
  const any = await rankedMatches(database, scope, terms.join(" | "), metadataFilter, RECENT_WINDOW);
  return [...new Set([...every, ...any])].slice(0, CANDIDATES);
}

async function rankedMatches(
  database: Database,
  scope: MemoryScope,
  tsquery: string,
  metadataFilter: Record<string, unknown> | undefined,
  recentWindow?: number,
): Promise<string[]> {
  const filter = metadataFilter ? "AND metadata @> $4::jsonb" : "";
  const window = recentWindow ? `ORDER BY id DESC LIMIT ${Math.trunc(recentWindow)}` : "";
  const { rows } = await database.query<{ id: string }>(
    `SELECT id FROM (
       SELECT id, search_vector FROM agent_memory_entries
       WHERE account_id = $1 AND agent_program_id = $2 AND search_vector @@ to_tsquery('english', $3) ${filter}
       ${window}
     ) matches
     ORDER BY ts_rank(search_vector, to_tsquery('english', $3)) DESC, id DESC
     LIMIT ${CANDIDATES}`,
    [scope.accountId, scope.agentProgramId, tsquery, ...(metadataFilter ? [JSON.stringify(metadataFilter)] : [])],
  );
  return rows.map((r) => r.id);
}

/** Vector candidates, or undefined when this search cannot use vectors (then the search is full-text). */
async function meaningCandidates(
  deps: MemoryDeps,
  scope: MemoryScope,
  query: string,
  metadataFilter: Record<string, unknown> | undefined,
) {
  if (!deps.embedder || !(await vectorState(deps.database)).available) return undefined;
  let vector: number[] | undefined;
  try {
    [vector] = await embedChecked(deps.embedder, [query]);
  } catch (error) {
    deps.log.warn({ err: error, model: deps.embedder.model }, "memory query embedding failed; searching by words");
    return undefined;
  }
  if (!vector || isZeroVector(vector)) return [];
  const candidates = await nearestEntries(
    deps.database,
    { agentProgramId: scope.agentProgramId, metadataFilter },
    deps.embedder.model,
    vector,
    CANDIDATES,
  );
  // relaxed_order iterative scans may return near-ties slightly out of order.
  return candidates.sort((a, b) => b.similarity - a.similarity);
}
