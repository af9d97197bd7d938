import fs from "node:fs";
import path from "node:path";
import { type Database, openDatabase } from "../../apps/server/src/db/index.js";
import { agentMemoryEntries } from "../../apps/server/src/db/schema.js";
import { uuidv7 } from "../../apps/server/src/ids.js";
import { createLogger } from "../../apps/server/src/log.js";
import type { Embedder } from "../../apps/server/src/memory/embedder.js";
import { vectorLiteral } from "../../apps/server/src/memory/embedder.js";
import { search } from "../../apps/server/src/memory/search.js";
import { nearestEntries, storeEmbedding, vectorState } from "../../apps/server/src/memory/vector.js";
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText } from "../../apps/server/src/mock-llm/embeddings.js";
import { resultsDir } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { summarize } from "../lib/stats.js";
import { seedOwner } from "./context.js";

/** Bump when the seeded data changes shape, so stale cached folders are rebuilt. */
const SEED_VERSION = 1;
const BATCH = 500;
const MODEL = "mock-embedding";

/** The mock's feature-hashing embeddings, in-process: the bench times the search, not an HTTP round trip. */
const embedder: Embedder = {
  model: MODEL,
  dimension: DEFAULT_EMBEDDING_DIMENSIONS,
  embed: async (texts) => texts.map((text) => embedText(text)),
};

/** mulberry32: a small deterministic PRNG, so every machine seeds the same memories. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE =
  "Anna Ben Chloe David Emma Felix Grace Hugo Iris Jonas Karin Leo Maya Nils Olga Paul Quinn Rosa Sam Tara Umar Vera Walt Xenia Yusuf Zoe".split(
    " ",
  );
const RELATIONS = "sister brother colleague neighbour friend cousin manager dentist teacher landlord".split(" ");
const VERBS = "likes avoids collects repairs studies teaches sells photographs paints grows cooks reads".split(" ");
const THINGS =
  "old bicycles vintage cameras jazz records sourdough bread alpine plants chess openings sailing boats mechanical watches Japanese novels wool sweaters board games tomato seedlings electric guitars".split(
    " ",
  );
const PLACES =
  "Lyon Porto Bergen Graz Leipzig Bologna Ghent Tartu Cork Malmo Bilbao Krakow Utrecht Basel Brno Turku".split(" ");
const EXTRAS =
  "on weekends every summer since 2019 with great care only in winter for the local club as a hobby for money after work".split(
    " ",
  );

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function memoryText(rand: () => number, n: number): string {
  const thing = `${pick(rand, THINGS)} ${pick(rand, THINGS)}`;
  return `Note ${n}: the user's ${pick(rand, RELATIONS)} ${pick(rand, PEOPLE)} lives in ${pick(rand, PLACES)} and ${pick(rand, VERBS)} ${thing} ${pick(rand, EXTRAS)} ${pick(rand, EXTRAS)}.`;
}

function queryText(rand: () => number): string {
  return `which ${pick(rand, RELATIONS)} ${pick(rand, VERBS)} ${pick(rand, THINGS)} in ${pick(rand, PLACES)}`;
}

interface Seeded {
  accountId: string;
  agentProgramId: string;
  entries: number;
  seedSeconds: number;
}

/**
 * A PGlite folder with `entries` memories of one agent program and their embeddings, cached under
 * bench/results/cache: seeding 100,000 entries and building their HNSW index takes minutes.
 */
async function seededFolder(entries: number, log: (m: string) => void): Promise<{ dir: string; meta: Seeded }> {
  const dir = path.join(resultsDir, "cache", `memory-v${SEED_VERSION}-${entries}`);
  const metaFile = path.join(dir, "meta.json");
  if (fs.existsSync(metaFile)) return { dir, meta: JSON.parse(fs.readFileSync(metaFile, "utf8")) };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(
    `memory: seeding ${entries.toLocaleString("en")} entries (cached for later runs in ${path.relative(process.cwd(), dir)})`,
  );
  const started = performance.now();
  const database = await openDatabase({ dataDir: path.join(dir, "db"), log: createLogger("silent") });
  try {
    const owner = await seedOwner(database);
    await vectorState(database);
    const rand = random(entries);
    const scope = { accountId: owner.accountId, agentProgramId: owner.agentProgramId };
    for (let start = 0; start < entries - 1; start += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, entries - 1 - start) }, (_, i) => ({
        id: uuidv7(),
        ...scope,
        content: memoryText(rand, start + i),
      }));
      await database.db.insert(agentMemoryEntries).values(rows);
      const params: unknown[] = [];
      const values = rows.map((row, i) => {
        params.push(row.id, vectorLiteral(embedText(row.content).map((v) => Math.round(v * 1e6) / 1e6)));
        return `($${i * 2 + 1}, '${owner.agentProgramId}', '${MODEL}', ${DEFAULT_EMBEDDING_DIMENSIONS}, $${i * 2 + 2}::vector)`;
      });
      await database.query(
        `INSERT INTO agent_memory_embeddings (entry_id, agent_program_id, model, dimension, embedding) VALUES ${values.join(", ")}`,
        params,
      );
      if ((start / BATCH) % 40 === 0) log(`memory: ${start.toLocaleString("en")} / ${entries.toLocaleString("en")}`);
    }
    // The last entry goes through the server's own verb, which builds the HNSW index over everything above.
    log("memory: building the HNSW index");
    await database.exec("SET maintenance_work_mem = '512MB'");
    const last = { id: uuidv7(), ...scope, content: memoryText(rand, entries - 1) };
    await database.db.insert(agentMemoryEntries).values(last);
    await storeEmbedding(
      database,
      { id: last.id, agentProgramId: owner.agentProgramId },
      MODEL,
      embedText(last.content),
    );
    await database.exec("ANALYZE");
    const meta: Seeded = { ...scope, entries, seedSeconds: (performance.now() - started) / 1000 };
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    return { dir, meta };
  } finally {
    await database.close();
  }
}

async function timed(iterations: number, queries: string[], task: (query: string) => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await task(queries[i % queries.length]!);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const query = queries[i % queries.length]!;
    const started = performance.now();
    await task(query);
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}

async function usesHnsw(database: Database, agentProgramId: string): Promise<boolean> {
  const vector = vectorLiteral(embedText("which friend paints jazz records in Porto"));
  const { rows } = await database.query<{ "QUERY PLAN": string }>(
    `EXPLAIN SELECT entry_id FROM agent_memory_embeddings emb
       WHERE emb.agent_program_id = $1 AND emb.model = $2 AND emb.dimension = ${DEFAULT_EMBEDDING_DIMENSIONS}
       ORDER BY emb.embedding::vector(${DEFAULT_EMBEDDING_DIMENSIONS}) <=> $3::vector(${DEFAULT_EMBEDDING_DIMENSIONS}) LIMIT 50`,
    [agentProgramId, MODEL, vector],
  );
  return rows.some((r) => /hnsw/i.test(Object.values(r).join(" ")));
}

export const memoryScenario: Scenario = {
  name: "memory",
  title: "Memory search: hybrid (HNSW + full-text) and the full-text fallback, PGlite",
  postgres: false,
  async run(context: ScenarioContext) {
    const sizes = context.smoke ? [2_000] : [10_000, 100_000];
    const iterations = context.smoke ? 20 : 100;
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = {};
    const rand = random(7);
    const queries = Array.from({ length: 50 }, () => queryText(rand));
    for (const size of sizes) {
      const { dir, meta } = await seededFolder(size, context.log);
      const database = await openDatabase({ dataDir: path.join(dir, "db"), log: createLogger("silent") });
      try {
        const log = createLogger("silent");
        const scope = { accountId: meta.accountId, agentProgramId: meta.agentProgramId };
        context.log(`memory: ${size.toLocaleString("en")} entries, ${iterations} searches each way`);
        let mode = "";
        const hybrid = await timed(iterations, queries, async (query) => {
          mode = (await search({ database, log, embedder }, scope, { query, limit: 5 })).mode;
        });
        const fullText = await timed(iterations, queries, (query) =>
          search({ database, log }, scope, { query, limit: 5 }),
        );
        const vectorOnly = await timed(iterations, queries, (query) =>
          nearestEntries(database, { agentProgramId: meta.agentProgramId }, MODEL, embedText(query), 50),
        );
        const label = size.toLocaleString("en");
        metrics.push(
          {
            key: `memory.${size}.hybrid.p50`,
            label: `memory search, ${label} entries, HNSW + full-text, p50`,
            unit: "ms",
            value: hybrid.p50,
            ...(size === 100_000 ? { target: { op: "<=" as const, value: 30 } } : {}),
          },
          {
            key: `memory.${size}.hybrid.p99`,
            label: `memory search, ${label} entries, HNSW + full-text, p99`,
            unit: "ms",
            value: hybrid.p99,
          },
          {
            key: `memory.${size}.vector.p50`,
            label: `memory search, ${label} entries, HNSW alone, p50`,
            unit: "ms",
            value: vectorOnly.p50,
          },
          {
            key: `memory.${size}.fulltext.p50`,
            label: `memory search, ${label} entries, full-text fallback, p50`,
            unit: "ms",
            value: fullText.p50,
          },
          {
            key: `memory.${size}.fulltext.p99`,
            label: `memory search, ${label} entries, full-text fallback, p99`,
            unit: "ms",
            value: fullText.p99,
          },
        );
        details[`size${size}`] = {
          hybrid,
          fullText,
          vectorOnly,
          mode,
          usesHnsw: await usesHnsw(database, meta.agentProgramId),
          seedSeconds: meta.seedSeconds,
        };
      } finally {
        await database.close();
      }
    }
    return { metrics, details };
  },
};
