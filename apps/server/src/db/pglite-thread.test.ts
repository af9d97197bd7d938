import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUniqueViolation } from "./errors.js";
import { PgliteThread } from "./pglite-thread.js";

describe("PGlite in a worker thread", () => {
  let db: PgliteThread;

  beforeAll(async () => {
    db = await PgliteThread.open(undefined, { sharedBuffers: "16MB" });
    await db.exec("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, at timestamptz DEFAULT now())");
  });
  afterAll(async () => {
    await db.close();
  });

  it("starts PostgreSQL with the buffer pool it was given", async () => {
    const { rows } = await db.query<{ shared_buffers: string }>("SHOW shared_buffers");
    expect(rows[0]?.shared_buffers).toBe("16MB");
  });

  it("answers rows as objects or arrays, with the caller's parsers applied on its side", async () => {
    await db.query("INSERT INTO items (id, name, at) VALUES ($1, $2, $3)", [1, "one", "2026-01-02T03:04:05Z"]);
    const seen: [string, number][] = [];
    const result = await db.query<unknown[]>("SELECT id, name, at FROM items WHERE id = 1", [], {
      rowMode: "array",
      parsers: {
        1184: (value, typeId) => {
          seen.push([value, typeId]);
          return `parsed ${value}`;
        },
      },
    });
    expect(result.rows).toEqual([[1, "one", "parsed 2026-01-02 03:04:05+00"]]);
    expect(seen).toEqual([["2026-01-02 03:04:05+00", 1184]]);
    const objects = await db.query<{ name: string; at: Date }>("SELECT name, at FROM items WHERE id = 1");
    expect(objects.rows[0]?.name).toBe("one");
    expect(objects.rows[0]?.at).toBeInstanceOf(Date);
  });

  it("rejects with the driver's SQLSTATE and constraint, so callers can tell a unique violation", async () => {
    const error = await db.query("INSERT INTO items (id, name) VALUES (1, 'again')").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "23505", constraint: "items_pkey" });
    expect(isUniqueViolation(error, "items_pkey")).toBe(true);
  });

  it("runs the same statement again with other parameters and types (it is kept prepared)", async () => {
    const insert = "INSERT INTO items (id, name, at) VALUES ($1, $2, $3) RETURNING id, name, at";
    const first = await db.query<{ id: number; name: string; at: Date }>(insert, [10, "ten", new Date(0)]);
    const second = await db.query<{ id: number; name: string; at: Date }>(insert, [11, "eleven", null]);
    expect(first.rows[0]).toEqual({ id: 10, name: "ten", at: new Date(0) });
    expect(second.rows[0]).toMatchObject({ id: 11, name: "eleven", at: null });
    expect(second.affectedRows).toBe(1);
    const json = await db.query<{ value: unknown }>("SELECT $1::jsonb AS value", [{ a: [1, "two"] }]);
    expect(json.rows[0]?.value).toEqual({ a: [1, "two"] });
    expect((await db.query<{ value: unknown }>("SELECT $1::jsonb AS value", [{ b: true }])).rows[0]?.value).toEqual({
      b: true,
    });
    await db.query("DELETE FROM items WHERE id IN (10, 11)");
  });

  it("prepares a statement again once the table it reads has changed shape", async () => {
    await db.exec("CREATE TABLE reshaped (id int)");
    await db.query("INSERT INTO reshaped VALUES ($1)", [1]);
    expect((await db.query("SELECT * FROM reshaped")).rows).toEqual([{ id: 1 }]);
    await db.exec("ALTER TABLE reshaped ADD COLUMN note text DEFAULT 'added'");
    expect((await db.query("SELECT * FROM reshaped")).rows).toEqual([{ id: 1, note: "added" }]);
  });

  it("keeps serving when more distinct statements have run than it keeps prepared", async () => {
    for (let n = 0; n < 520; n++) {
      expect((await db.query<{ n: number }>(`SELECT ${n}::int AS n, $1::text AS t`, ["x"])).rows[0]?.n).toBe(n);
    }
    expect((await db.query<{ n: number }>("SELECT 0::int AS n, $1::text AS t", ["x"])).rows[0]?.n).toBe(0);
  });

  it("reports a statement that does not parse with its SQLSTATE, and goes on serving", async () => {
    await expect(db.query("SELEC 1")).rejects.toMatchObject({ code: "42601" });
    await expect(db.query("SELEC 1")).rejects.toMatchObject({ code: "42601" });
    expect((await db.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
  });

  it("fails a statement whose parameters cannot cross to the worker, and goes on serving", async () => {
    await expect(db.query("SELECT $1::text", [() => "a function"])).rejects.toThrow(/could not be cloned/);
    expect((await db.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("runs waiting statements, batches and exec in the order they came", async () => {
    await db.exec("CREATE SEQUENCE arrival_order");
    const next = "SELECT nextval('arrival_order') AS n";
    // The sleep holds the thread while the rest arrive and wait.
    const busy = db.query("SELECT pg_sleep(0.05)");
    const ran = await Promise.all([
      db.query<{ n: string }>(next).then(({ rows }) => rows[0]!.n),
      db.batch([{ sql: next, params: [] }]).then((outcome) => outcome.ok && outcome.results[0]!.rows[0]!.n),
      db.exec(next).then(({ rows }) => rows[0]!.n),
      db.query<{ n: string }>(next).then(({ rows }) => rows[0]!.n),
    ]);
    await busy;
    expect(ran.map(Number)).toEqual([1, 2, 3, 4]);
  });

  it("holds statements from outside an open transaction until it commits", async () => {
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    let inserted!: () => void;
    const insertedInside = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const transaction = db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, name) VALUES (2, 'two')");
      inserted();
      await gate;
      await tx.query("UPDATE items SET name = 'two, committed' WHERE id = 2");
      return "done";
    });
    await insertedInside;
    // Sent while the transaction is open: it must neither run inside it nor see its uncommitted state.
    const outside = db.query<{ name: string }>("SELECT name FROM items WHERE id = 2");
    proceed();
    await expect(transaction).resolves.toBe("done");
    expect((await outside).rows).toEqual([{ name: "two, committed" }]);
  });

  it("rolls a transaction back when its callback throws", async () => {
    const failure = db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, name) VALUES (3, 'three')");
      throw new Error("changed my mind");
    });
    await expect(failure).rejects.toThrow("changed my mind");
    expect((await db.query("SELECT 1 FROM items WHERE id = 3")).rows).toEqual([]);
    // The connection is usable afterwards, outside any transaction.
    expect((await db.exec("SELECT count(*)::int AS n FROM items")).rows).toEqual([{ n: 2 }]);
  });

  it("delivers NOTIFY payloads to listeners until they unlisten", async () => {
    const payloads: string[] = [];
    const unlisten = await db.listen("cybros_test", (payload) => payloads.push(payload));
    await db.query("SELECT pg_notify('cybros_test', 'hello')");
    await expect.poll(() => payloads).toEqual(["hello"]);
    await unlisten();
    await db.query("SELECT pg_notify('cybros_test', 'unheard')");
    await db.query("SELECT 1");
    expect(payloads).toEqual(["hello"]);
  });
});
