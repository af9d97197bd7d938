import { getTableColumns, is, Param, Placeholder, type SQL, sql } from "drizzle-orm";
import { PgDialect, type PgTable } from "drizzle-orm/pg-core";
import type { Db } from "./index.js";
import type { BatchResult, BatchStatement } from "./pglite-thread.js";

/**
 * How the query modules (db/queries/) build their statements. Domain code never sees this file: it calls a
 * module's named reads and writes, and Database.write commits writes together.
 */

/** One statement for Database.write: sent with the others of its batch, in one transaction. */
export type Write = BatchStatement;

/** Rows as a batch answers them: column names as in SQL, values as the driver parsed them. */
export type Rows = Record<string, unknown>[];

/** Writes named by their caller, in the order they run; a list runs its writes in order; undefined is left out. */
export type Writes = { readonly [name: string]: Write | readonly Write[] | undefined };

type RowsOf<Value> = Value extends readonly Write[] ? Rows[] : Value extends Write ? Rows : undefined;

/**
 * Every write committed, with each one's rows under its name; or nothing kept, and the name of the first write
 * whose rows missed its `expect`.
 */
export type WriteOutcome<W extends Writes> =
  | { ok: true; rows: { [Name in keyof W]: RowsOf<W[Name]> } }
  | { ok: false; unmet: Extract<keyof W, string> };

/** Database.write over a Database's batch. */
export async function writeNamed<W extends Writes>(
  batch: (statements: BatchStatement[]) => Promise<BatchResult>,
  writes: W,
): Promise<WriteOutcome<W>> {
  const names: string[] = [];
  const statements: BatchStatement[] = [];
  for (const [name, write] of Object.entries(writes)) {
    if (write === undefined) continue;
    for (const statement of isList(write) ? write : [write]) {
      names.push(name);
      statements.push(statement);
    }
  }
  const result = await batch(statements);
  if (!result.ok) return { ok: false, unmet: names[result.unmet] as Extract<keyof W, string> };
  const rows: Record<string, Rows | Rows[] | undefined> = {};
  for (const [name, write] of Object.entries(writes)) rows[name] = write && isList(write) ? [] : undefined;
  for (const [index, { rows: answered }] of result.results.entries()) {
    const name = names[index]!;
    const named = rows[name];
    if (Array.isArray(named) && isList(writes[name]!)) (named as Rows[]).push(answered);
    else rows[name] = answered;
  }
  return { ok: true, rows: rows as { [Name in keyof W]: RowsOf<W[Name]> } };
}

function isList(write: Write | readonly Write[]): write is readonly Write[] {
  return Array.isArray(write);
}

const dialect = new PgDialect();

/**
 * Builds a hot statement once per database handle. Drizzle builds a query's SQL on every call, and across the
 * twenty-odd statements of a send and its run that took the main thread longer than PGlite took to run them
 * (decisions/0016). Write such a query with `sql.placeholder(name)` where its values go (a builder's `.prepare()`
 * or a `statementTemplate`), and fill them in per call.
 */
export function builtOnce<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}

/** A placeholder named after each of the table's columns, for an insert of whole rows written once. */
export function columnPlaceholders<Table extends PgTable>(
  table: Table,
): { [Key in keyof Table["$inferInsert"]]-?: Placeholder } {
  return Object.fromEntries(Object.keys(getTableColumns(table)).map((key) => [key, sql.placeholder(key)])) as {
    [Key in keyof Table["$inferInsert"]]-?: Placeholder;
  };
}

/** A batch statement whose SQL is built once: each call fills its placeholders from `values`. */
export function statementTemplate<Values extends Record<string, unknown>>(
  query: SQL | { toSQL(): { sql: string; params: unknown[] } },
  expect?: BatchStatement["expect"],
): (values: Values) => BatchStatement {
  const built = batchStatement(query, expect);
  const fill = valueFiller(built.params);
  return (values) => ({ ...built, params: fill(values) });
}

/**
 * Drizzle's fillPlaceholders, except that null stays null: a column's encoder is for values (a timestamp column's
 * turns a Date into text and fails on null), and Drizzle itself never hands it a null. What each parameter is
 * (a placeholder, an encoded placeholder, a constant) is worked out once, not on every call.
 */
function valueFiller(params: unknown[]): (values: Record<string, unknown>) => unknown[] {
  type Slot = { name: string; encode?: (value: unknown) => unknown } | { constant: unknown };
  const slots: Slot[] = params.map((param) => {
    if (is(param, Placeholder)) return { name: param.name };
    if (is(param, Param) && is(param.value, Placeholder)) {
      const { encoder } = param;
      return { name: param.value.name, encode: (value: unknown) => encoder.mapToDriverValue(value) };
    }
    return { constant: param };
  });
  return (values) =>
    slots.map((slot) => {
      if ("constant" in slot) return slot.constant;
      if (!(slot.name in values)) throw new Error(`No value for placeholder "${slot.name}"`);
      const value = values[slot.name] ?? null;
      return value === null || !slot.encode ? value : slot.encode(value);
    });
}

/**
 * A Drizzle query (a builder or an `sql` template) as a batch statement; `expect` as in BatchStatement. A statement
 * already built (a query module's Write) is answered as it is.
 */
export function batchStatement(
  query: SQL | { toSQL(): { sql: string; params: unknown[] } } | BatchStatement,
  expect?: BatchStatement["expect"],
): BatchStatement {
  if ("params" in query && typeof query.sql === "string") return expect ? { ...query, expect } : query;
  const { sql, params } = "toSQL" in query ? query.toSQL() : dialect.sqlToQuery(query as SQL);
  return expect ? { sql, params, expect } : { sql, params };
}
