import path from "node:path";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { repoRoot } from "../config.js";
import type { Logger } from "../log.js";
import { type StartedPglite, startPglite } from "./pglite-open.js";
import type { BatchResult, BatchStatement } from "./pglite-thread.js";
import * as schema from "./schema.js";
import { type WriteOutcome, type Writes, writeNamed } from "./statements.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseKind = "pglite" | "postgres";

export interface SqlResult<Row> {
  rows: Row[];
}

export type { BatchResult, BatchStatement } from "./pglite-thread.js";
export {
  batchStatement,
  builtOnce,
  columnPlaceholders,
  type Rows,
  statementTemplate,
  type Write,
  type WriteOutcome,
  type Writes,
} from "./statements.js";

function unmet(statement: BatchStatement, rows: unknown[]): boolean {
  return (statement.expect === "some" && rows.length === 0) || (statement.expect === "none" && rows.length > 0);
}

/** One handle over either backend: Drizzle for queries, raw SQL for the few places that need it. */
export interface Database {
  kind: DatabaseKind;
  db: Db;
  /** Whether pgvector is usable; without it memory search falls back to full-text only. */
  vector: boolean;
  /** Parameterized single statement. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<Row>>;
  /**
   * Statements run in order in one transaction, all sent at once: on PGlite one request, so nothing holds the
   * database between them (transaction() waits on this thread between its round trips). Rows come back raw
   * (column names as in SQL). A statement whose rows miss its `expect` rolls the batch back.
   */
  batch(statements: BatchStatement[]): Promise<BatchResult>;
  /**
   * Writes from the query modules (db/queries/), named by the caller, as one batch: each write's rows under its
   * name, or the name of the first write whose rows missed its expectation (nothing was kept).
   */
  write<W extends Writes>(writes: W): Promise<WriteOutcome<W>>;
  /** Several statements, no parameters; answers the last statement's rows. */
  exec(text: string): Promise<SqlResult<Record<string, unknown>>>;
  /** Subscribes to a NOTIFY channel; returns the unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Runs `work` unless another process holds `key` (a PostgreSQL advisory lock on one pooled connection for the
   * duration); answers whether it ran. PGlite has one process, so it always runs.
   */
  exclusively(key: string, work: () => Promise<unknown>): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PGlite folder, or "memory://" for a throwaway in-memory database. Ignored when `url` is set. */
  dataDir?: string;
  url?: string;
  /** PGlite's shared_buffers; PgliteThread's default when unset. */
  sharedBuffers?: string;
  /** PGlite already starting (main.ts begins it early, see startPglite); it must be for `dataDir`. */
  pglite?: Promise<StartedPglite>;
  log: Logger;
}

const migrationsFolder = path.join(repoRoot, "apps/server/drizzle");

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const database = options.url
    ? await openPostgres(options.url, options.log)
    : await openPglite(options.dataDir ?? "memory://", options.log, options.sharedBuffers, options.pglite);
  try {
    if (database.kind === "pglite") {
      await migratePglite(database.db as never, { migrationsFolder });
    } else {
      await migratePg(database.db as never, { migrationsFolder });
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

async function openPglite(
  dataDir: string,
  log: Logger,
  sharedBuffers?: string,
  started?: Promise<StartedPglite>,
): Promise<Database> {
  const { client, release } = await (started ?? startPglite(dataDir, log, sharedBuffers));
  const inMemory = dataDir.startsWith("memory://");
  log.info({ kind: "pglite", dataDir: inMemory ? "memory" : dataDir, vector: true }, "database opened");
  const batch = (statements: BatchStatement[]) => client.batch(statements);
  return {
    kind: "pglite",
    // Drizzle's PGlite driver needs only query() and transaction(), which the thread answers in kind.
    db: drizzlePglite(client as never, { schema }) as unknown as Db,
    vector: true,
    query: async (text, params) => client.query(text, params ?? []),
    batch,
    write: (writes) => writeNamed(batch, writes),
    exec: async (text) => client.exec(text),
    listen: async (channel, onPayload) => client.listen(channel, onPayload),
    notify: async (channel, payload) => {
      await client.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    exclusively: async (_key, work) => {
      await work();
      return true;
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        release();
      }
    },
  };
}

async function openPostgres(url: string, log: Logger): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: "cybros" });
  pool.on("error", (error) => log.error({ err: error }, "postgres pool error"));
  let vectorEnabled = false;
  try {
    const available = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
    if (available.rowCount) {
      await pool.query("CREATE EXTENSION IF NOT EXISTS vector");
      vectorEnabled = true;
    }
  } catch (error) {
    if ((error as { code?: string }).code === "ECONNREFUSED") {
      await pool.end();
      throw new Error(`Cannot reach the PostgreSQL server at DATABASE_URL (${redactUrl(url)})`);
    }
    log.warn({ err: error }, "pgvector could not be enabled");
  }
  if (vectorEnabled) {
    log.info({ kind: "postgres", url: redactUrl(url), vector: true }, "database opened");
  } else {
    log.warn(
      { kind: "postgres", url: redactUrl(url), vector: false },
      "database opened without pgvector: memory search uses full-text search only",
    );
  }

  const listener = {
    client: undefined as pg.PoolClient | undefined,
    handlers: new Map<string, Set<(p: string) => void>>(),
  };
  const database: Database = {
    kind: "postgres",
    db: drizzlePg(pool, { schema }) as unknown as Db,
    vector: vectorEnabled,
    query: async <Row>(text: string, params?: unknown[]) =>
      (await pool.query(text, params)) as unknown as SqlResult<Row>,
    write: (writes) => writeNamed(database.batch, writes),
    batch: async (statements) => {
      // One after another on one pooled connection: others use the rest of the pool meanwhile, and node-postgres
      // deprecates queries issued while one is running.
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const results: { rows: Record<string, unknown>[] }[] = [];
        for (const [index, statement] of statements.entries()) {
          const { rows } = await client.query(statement.sql, statement.params);
          if (unmet(statement, rows)) {
            await client.query("ROLLBACK");
            return { ok: false, unmet: index };
          }
          results.push({ rows });
        }
        await client.query("COMMIT");
        return { ok: true, results };
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    exec: async (text) => {
      const result = (await pool.query(text)) as pg.QueryResult | pg.QueryResult[];
      return { rows: (Array.isArray(result) ? result.at(-1)?.rows : result.rows) ?? [] };
    },
    listen: async (channel, onPayload) => {
      if (!listener.client) {
        listener.client = await pool.connect();
        listener.client.on("notification", (message) => {
          for (const handler of listener.handlers.get(message.channel) ?? []) handler(message.payload ?? "");
        });
      }
      let handlers = listener.handlers.get(channel);
      if (!handlers) {
        handlers = new Set();
        listener.handlers.set(channel, handlers);
        await listener.client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      handlers.add(onPayload);
      return async () => {
        handlers.delete(onPayload);
      };
    },
    notify: async (channel, payload) => {
      await pool.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    exclusively: async (key, work) => {
      // A session lock lives on its connection, so the one that took it also releases it.
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
          [key],
        );
        if (!rows[0]?.locked) return false;
        try {
          await work();
        } finally {
          await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]);
        }
        return true;
      } finally {
        client.release();
      }
    },
    close: async () => {
      listener.client?.release();
      await pool.end();
    },
  };
  return database;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
