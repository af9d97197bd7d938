// @ts-check
// The worker thread that owns the PGlite instance (db/pglite-thread.ts is the other side). PGlite executes SQL
// synchronously in WebAssembly; here that time is spent on the machine's other core instead of the event loop
// that streams replies. Plain JavaScript so that it runs as is under tsx, Vitest and the esbuild bundle.
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, parse, protocol } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
/** @type {{ dataDir: string | undefined, sharedBuffers: string }} */
const { dataDir, sharedBuffers } = workerData;

/** An error as plain data: a structured clone of an Error drops `code`, `constraint` and the other fields. */
function errorData(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const data = { name: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) data[key] = value;
  }
  return data;
}

/**
 * PGlite's parsers, except raw text out for these type oids: the caller applies its own parser functions, which
 * cannot cross threads. Built once per set of oids: parseResults given `options.parsers` copies all ~300 of
 * PGlite's parsers on every call (~120 µs, most of the parse of a one-row result).
 */
const parserSets = new Map();
function parsersWithText(oids) {
  if (!oids || oids.length === 0) return pg.parsers;
  const key = oids.join(",");
  let parsers = parserSets.get(key);
  if (!parsers) {
    parsers = { ...pg.parsers, ...Object.fromEntries(oids.map((oid) => [oid, (value) => value])) };
    parserSets.set(key, parsers);
  }
  return parsers;
}

/** Distinct SQL texts kept prepared; the least recently used is closed beyond this. */
const MAX_PREPARED = 500;
/** SQLSTATEs after which a prepared statement is stale (a table it reads changed shape) and is prepared again. */
const STALE_PLAN = new Set(["0A000", "26000"]);

function concat(parts) {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Queries as named prepared statements, one per distinct SQL text. PGlite's own query() sends six protocol
 * exchanges and parses and plans the statement every time; a prepared one is a single Bind/Execute/Sync
 * exchange, and PostgreSQL may reuse its plan: 3–4 times less time per statement measured here.
 */
class PreparedStatements {
  /** SQL text → { name, paramTypes, rowDescription }; Map order is recency (oldest first). */
  #statements = new Map();
  #next = 0;

  constructor(pg) {
    this.pg = pg;
  }

  async query(sql, params, options) {
    try {
      return await this.#run(sql, params, options);
    } catch (error) {
      if (!STALE_PLAN.has(error?.code) || !this.#statements.has(sql)) throw withQuery(error, sql, params);
      await this.#close(sql);
      return this.#run(sql, params, options).catch((again) => {
        throw withQuery(again, sql, params);
      });
    }
  }

  async #run(sql, params, options) {
    const statement = await this.#prepared(sql);
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serialize = this.pg.serializers[statement.paramTypes[i]];
      return serialize ? serialize(param) : param.toString();
    });
    const { messages } = await this.pg.execProtocol(
      concat([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
    );
    const described = statement.rowDescription ? [statement.rowDescription, ...messages] : messages;
    return parse.parseResults(described, options.parsers ?? this.pg.parsers, { rowMode: options.rowMode })[0];
  }

  async #prepared(sql) {
    const known = this.#statements.get(sql);
    if (known) {
      this.#statements.delete(sql);
      this.#statements.set(sql, known);
      return known;
    }
    const name = `cybros_${this.#next++}`;
    const { messages } = await this.pg.execProtocol(
      concat([
        protocol.serialize.parse({ name, text: sql }),
        protocol.serialize.describe({ type: "S", name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement = {
      name,
      paramTypes: parse.parseDescribeStatementResults(messages),
      rowDescription: messages.find((message) => message.name === "rowDescription"),
    };
    this.#statements.set(sql, statement);
    if (this.#statements.size > MAX_PREPARED) await this.#close(this.#statements.keys().next().value);
    return statement;
  }

  async #close(sql) {
    const statement = this.#statements.get(sql);
    if (!statement) return;
    this.#statements.delete(sql);
    await this.pg.execProtocol(
      concat([protocol.serialize.close({ type: "S", name: statement.name }), protocol.serialize.sync()]),
      { syncToFs: false },
    );
  }
}

/** The statement and its parameters on the error, as PGlite's own query() reports them. */
function withQuery(error, sql, params) {
  if (error instanceof Error && !("query" in error)) Object.assign(error, { query: sql, params });
  return error;
}

// PostgreSQL's WebAssembly runs as Liftoff, V8's baseline code, never re-compiled by TurboFan: tiering up its hot
// functions took ~90 MB of compiler memory that the allocator kept (≈ 70 MB of RSS for good) and a core for
// seconds, for WebAssembly 1.2–1.5× faster (decisions/0018). The flag is process-wide; PGlite is the only large
// module here, and it is compiled just below.
v8.setFlagsFromString("--liftoff-only");

/**
 * Creating a database runs initdb, a WebAssembly program of its own (initdb.wasm). What it used stays until V8
 * collects its instance, which this thread's small heap may not do for the server's whole life: a first start
 * kept ~750 MB of RSS, and keeps ~335 MB after one full collection (~12 ms). V8 offers no collection without
 * --expose-gc, which only takes effect in contexts created while it is set.
 */
function collectInitdbGarbage() {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  v8.setFlagsFromString("--no-expose-gc");
  gc();
}

const creating = dataDir === undefined || !fs.existsSync(path.join(dataDir, "PG_VERSION"));
let pg;
let prepared;
try {
  pg = await PGlite.create(dataDir, {
    extensions: { vector },
    // The buffer pool lives in this process's memory (CYBROS_PGLITE_SHARED_BUFFERS, decisions/0009).
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffers}`],
  });
  await pg.exec("CREATE EXTENSION IF NOT EXISTS vector;");
  if (creating) collectInitdbGarbage();
  prepared = new PreparedStatements(pg);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: errorData(error) });
}

const unlisteners = new Map();

async function perform(message) {
  switch (message.op) {
    case "query": {
      const options = { rowMode: message.rowMode, parsers: parsersWithText(message.textTypes) };
      const { rows, fields, affectedRows } = await prepared.query(message.sql, message.params, options);
      return { rows, fields, affectedRows };
    }
    case "batch":
      return runBatch(message.statements);
    case "exec": {
      const results = await pg.exec(message.sql);
      return { rows: results.at(-1)?.rows ?? [] };
    }
    case "listen": {
      const unlisten = await pg.listen(message.channel, (payload) =>
        port.postMessage({ notification: { channel: message.channel, payload } }),
      );
      unlisteners.set(message.channel, unlisten);
      return null;
    }
    case "unlisten": {
      await unlisteners.get(message.channel)?.();
      unlisteners.delete(message.channel);
      return null;
    }
    case "close":
      await pg.close();
      return null;
    default:
      throw new Error(`unknown PGlite worker operation ${message.op}`);
  }
}

/**
 * A transaction sent whole (PgliteThread.batch): the statements run back to back, so the database is held only
 * while they execute. A statement whose rows do not meet its `expect` rolls everything back.
 */
async function runBatch(statements) {
  await prepared.query("BEGIN", [], {});
  try {
    const results = [];
    for (const [index, statement] of statements.entries()) {
      const { rows } = await prepared.query(statement.sql, statement.params, {});
      if ((statement.expect === "some" && rows.length === 0) || (statement.expect === "none" && rows.length > 0)) {
        await prepared.query("ROLLBACK", [], {});
        return { unmet: index };
      }
      results.push({ rows });
    }
    await prepared.query("COMMIT", [], {});
    return { results };
  } catch (error) {
    await pg.exec("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Requests not yet run, in arrival order; one runs at a time, so a transaction's statements keep their order. */
const waiting = [];
let running = false;

async function runWaiting() {
  while (waiting.length > 0) {
    const message = waiting.shift();
    try {
      port.postMessage({ id: message.id, ok: true, result: await perform(message) });
    } catch (error) {
      port.postMessage({ id: message.id, ok: false, error: errorData(error) });
    }
    if (message.op === "close") {
      port.close();
      break;
    }
  }
  running = false;
}

port.on("message", (message) => {
  waiting.push(message);
  if (running) return;
  running = true;
  void runWaiting();
});
