import { Worker } from "node:worker_threads";

/** Rows and column types as PGlite answers a query. */
export interface PgliteResult<Row = Record<string, unknown>> {
  rows: Row[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

export interface PgliteQueryOptions {
  rowMode?: "array" | "object";
  /** Type oid → parser of the column's text, applied on this side (functions cannot cross threads). */
  parsers?: Record<number, (value: string, typeId: number) => unknown>;
}

/** What a transaction's callback gets: statements that run inside it. */
export interface PgliteTransaction {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: PgliteQueryOptions,
  ): Promise<PgliteResult<Row>>;
}

/** One statement of a batch; `expect` checks its rows (a SELECT or RETURNING): unmet, the batch rolls back. */
export interface BatchStatement {
  sql: string;
  params: unknown[];
  expect?: "some" | "none";
}

/** Every statement's rows, or the index of the first statement whose expectation failed (nothing was kept). */
export type BatchResult = { ok: true; results: { rows: Record<string, unknown>[] }[] } | { ok: false; unmet: number };

type Request =
  | { op: "query"; sql: string; params: unknown[]; rowMode?: "array" | "object"; textTypes?: number[] }
  | { op: "batch"; statements: BatchStatement[] }
  | { op: "exec"; sql: string }
  | { op: "listen" | "unlisten"; channel: string }
  | { op: "close" };

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: Record<string, unknown> };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The worker's young generation, in MB; V8 let it grow to ~22 MB under load. Its garbage is short-lived (protocol
 * buffers, result rows), so a small one collects it as well and saves resident memory (decisions/0018).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * Half PostgreSQL's default: the pool is resident from the start, and 64 MB keeps vector search over 100,000
 * memories under its target. CYBROS_PGLITE_SHARED_BUFFERS changes it (decisions/0020).
 */
export const DEFAULT_SHARED_BUFFERS = "64MB";

const workerUrl = new URL("./pglite-worker.mjs", import.meta.url);

/** An Error again, with the driver's fields (code, constraint, detail…) that callers such as isUniqueViolation read. */
function reviveError(data: Record<string, unknown>): Error {
  const error = new Error(String(data.message ?? "PGlite error"));
  Object.assign(error, data);
  return error;
}

/**
 * PGlite in a worker thread, behind the part of PGlite's interface that Drizzle and db/index.ts use
 * (query, exec, transaction, listen, close). The worker runs one request at a time, in arrival order. This side holds
 * statements that are outside a transaction while one is open, as PGlite's own transaction() does. So an open
 * transaction holds the whole database, waits between its statements included: a transaction whose statements
 * need no answer from each other should go as one batch(), one request (decisions/0014).
 */
export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  #nextId = 1;
  #failure: Error | undefined;
  #closing = false;
  /** Settles when the open transaction ends; undefined when none is open. */
  #transaction: Promise<void> | undefined;

  private constructor(worker: Worker, onFailure?: (error: Error) => void) {
    this.#worker = worker;
    worker.on("message", (message: Reply | { notification: { channel: string; payload: string } }) => {
      if ("notification" in message) {
        for (const listener of this.#listeners.get(message.notification.channel) ?? []) {
          listener(message.notification.payload);
        }
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(reviveError(message.error));
    });
    const fail = (error: Error) => {
      if (!this.#failure && !this.#closing) onFailure?.(error);
      this.#failure ??= error;
      for (const pending of this.#pending.values()) pending.reject(this.#failure);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the PGlite worker thread exited (code ${code})`)));
  }

  /**
   * Starts the worker and opens the database in it: a folder, or in memory when `dataDir` is undefined.
   * `onFailure` hears of the worker dying other than by close(); every statement fails from then on.
   */
  static async open(
    dataDir: string | undefined,
    {
      sharedBuffers = DEFAULT_SHARED_BUFFERS,
      onFailure,
    }: { sharedBuffers?: string; onFailure?: (error: Error) => void } = {},
  ): Promise<PgliteThread> {
    const worker = new Worker(workerUrl, {
      workerData: { dataDir, sharedBuffers },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    let onMessage!: (message: { ready: boolean; error?: Record<string, unknown> }) => void;
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    const ready = await new Promise<{ ready: boolean; error?: Record<string, unknown> }>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`the PGlite worker thread exited (code ${code})`));
      worker.once("message", onMessage).once("error", onError).once("exit", onExit);
    })
      .catch(async (error: Error) => {
        await worker.terminate();
        throw error;
      })
      .finally(() => worker.off("message", onMessage).off("error", onError).off("exit", onExit));
    if (!ready.ready) {
      await worker.terminate();
      throw reviveError(ready.error ?? {});
    }
    return new PgliteThread(worker, onFailure);
  }

  async query<Row = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    options?: PgliteQueryOptions,
  ): Promise<PgliteResult<Row>> {
    while (this.#transaction) await this.#transaction;
    return this.#query<Row>(sql, params, options);
  }

  async exec(sql: string): Promise<{ rows: Record<string, unknown>[] }> {
    while (this.#transaction) await this.#transaction;
    return this.#call({ op: "exec", sql }) as Promise<{ rows: Record<string, unknown>[] }>;
  }

  async transaction<T>(callback: (tx: PgliteTransaction) => Promise<T>): Promise<T> {
    while (this.#transaction) await this.#transaction;
    let end!: () => void;
    this.#transaction = new Promise<void>((resolve) => {
      end = resolve;
    });
    const tx: PgliteTransaction = {
      query: (sql, params = [], options) => this.#query(sql, params, options),
    };
    try {
      // Not awaited on its own: the worker runs requests in arrival order, so BEGIN goes out with the callback's
      // first statement and the transaction holds the database one round trip less.
      const begun = this.#call({ op: "exec", sql: "BEGIN" });
      let result: T;
      try {
        [, result] = await Promise.all([begun, callback(tx)]);
      } catch (error) {
        await this.#call({ op: "exec", sql: "ROLLBACK" }).catch(() => {});
        throw error;
      }
      await this.#call({ op: "exec", sql: "COMMIT" });
      return result;
    } finally {
      this.#transaction = undefined;
      end();
    }
  }

  /**
   * Statements in one transaction, sent as one request: unlike transaction(), nothing waits on this side between
   * them, so the database is held only while they run. For writes whose statements need no answer from each other.
   */
  async batch(statements: BatchStatement[]): Promise<BatchResult> {
    while (this.#transaction) await this.#transaction;
    const reply = (await this.#call({ op: "batch", statements })) as
      | { results: { rows: Record<string, unknown>[] }[] }
      | { unmet: number };
    return "unmet" in reply ? { ok: false, unmet: reply.unmet } : { ok: true, results: reply.results };
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
      await this.#call({ op: "listen", channel });
    }
    listeners.add(onPayload);
    return async () => {
      listeners.delete(onPayload);
      if (listeners.size > 0 || this.#listeners.get(channel) !== listeners) return;
      this.#listeners.delete(channel);
      await this.#call({ op: "unlisten", channel });
    };
  }

  async close(): Promise<void> {
    if (this.#failure) return;
    while (this.#transaction) await this.#transaction;
    this.#closing = true;
    try {
      await this.#call({ op: "close" });
    } finally {
      await this.#worker.terminate();
    }
  }

  async #query<Row>(
    sql: string,
    params: unknown[],
    options: PgliteQueryOptions | undefined,
  ): Promise<PgliteResult<Row>> {
    const parsers = options?.parsers;
    const textTypes = parsers ? Object.keys(parsers).map(Number) : undefined;
    const result = (await this.#call({
      op: "query",
      sql,
      params,
      rowMode: options?.rowMode,
      textTypes,
    })) as PgliteResult<Row>;
    if (parsers) applyParsers(result, parsers, options?.rowMode === "array");
    return result;
  }

  #call(request: Request): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ id, ...request });
      } catch (error) {
        // A parameter that cannot be cloned (a function, say) fails this statement only.
        this.#pending.delete(id);
        reject(error);
      }
    });
  }
}

function applyParsers(
  result: PgliteResult<unknown>,
  parsers: Record<number, (value: string, typeId: number) => unknown>,
  arrayRows: boolean,
): void {
  const columns = result.fields.flatMap((field, index) => {
    const parser = parsers[field.dataTypeID];
    return parser ? [{ key: arrayRows ? index : field.name, parser, typeId: field.dataTypeID }] : [];
  });
  if (columns.length === 0) return;
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { key, parser, typeId } of columns) {
      const value = row[key];
      if (typeof value === "string") row[key] = parser(value, typeId);
    }
  }
}
