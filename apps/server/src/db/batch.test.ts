import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness.js";
import type { Database } from "./index.js";

// Runs on PGlite, and on the PostgreSQL server in the database suite (CYBROS_TEST_DATABASE_URL).
describe("Database.batch", () => {
  let server: TestServer;
  let database: Database;

  beforeAll(async () => {
    server = await startTestServer();
    database = server.services.database;
    await database.exec("CREATE TABLE batch_items (id int PRIMARY KEY, name text NOT NULL)");
  });
  afterAll(async () => {
    await server.close();
  });

  const names = async () =>
    (await database.query<{ name: string }>("SELECT name FROM batch_items ORDER BY id")).rows.map((r) => r.name);

  it("runs the statements in order in one transaction and answers each one's rows", async () => {
    const outcome = await database.batch([
      { sql: "INSERT INTO batch_items (id, name) VALUES ($1, $2) RETURNING id", params: [1, "one"] },
      // Sees the row inserted just before it in the same batch.
      { sql: "UPDATE batch_items SET name = name || $1 WHERE id = 1 RETURNING name", params: [" more"] },
      { sql: "SELECT count(*)::int AS n FROM batch_items", params: [] },
    ]);
    expect(outcome).toEqual({
      ok: true,
      results: [{ rows: [{ id: 1 }] }, { rows: [{ name: "one more" }] }, { rows: [{ n: 1 }] }],
    });
    expect(await names()).toEqual(["one more"]);
  });

  it("rolls everything back when a statement's rows miss its expectation, and says which", async () => {
    const missing = await database.batch([
      { sql: "INSERT INTO batch_items (id, name) VALUES (2, 'two')", params: [] },
      { sql: "UPDATE batch_items SET name = 'x' WHERE id = 99 RETURNING id", params: [], expect: "some" },
      { sql: "INSERT INTO batch_items (id, name) VALUES (3, 'three')", params: [] },
    ]);
    expect(missing).toEqual({ ok: false, unmet: 1 });
    const present = await database.batch([
      { sql: "INSERT INTO batch_items (id, name) VALUES (2, 'two')", params: [] },
      { sql: "SELECT id FROM batch_items WHERE id = 1", params: [], expect: "none" },
    ]);
    expect(present).toEqual({ ok: false, unmet: 1 });
    expect(await names()).toEqual(["one more"]);
  });

  it("rolls back and rejects with the driver's error when a statement fails", async () => {
    const error = await database
      .batch([
        { sql: "INSERT INTO batch_items (id, name) VALUES (4, 'four')", params: [] },
        { sql: "INSERT INTO batch_items (id, name) VALUES (1, 'duplicate')", params: [] },
      ])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "23505" });
    expect(await names()).toEqual(["one more"]);
    // The connection is usable afterwards, outside any transaction.
    await database.query("INSERT INTO batch_items (id, name) VALUES (5, 'five')");
    expect(await names()).toEqual(["one more", "five"]);
  });

  it("waits for an open transaction instead of running inside it", async () => {
    let inserted!: () => void;
    let release!: () => void;
    const insertedRow = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transaction = server.services.db.transaction(async (tx) => {
      await tx.execute("INSERT INTO batch_items (id, name) VALUES (6, 'six')");
      inserted();
      await held;
      throw new Error("rolled back on purpose");
    });
    await insertedRow;
    const batch = database.batch([{ sql: "SELECT count(*)::int AS n FROM batch_items", params: [] }]);
    release();
    await expect(transaction).rejects.toThrow("rolled back on purpose");
    // Run inside the transaction, it would have counted the row that was then rolled back.
    expect(await batch).toEqual({ ok: true, results: [{ rows: [{ n: 2 }] }] });
  });

  it("write() answers each named write's rows under its name, and names the write whose rows missed", async () => {
    const insert = (id: number, name: string) => ({
      sql: "INSERT INTO batch_items (id, name) VALUES ($1, $2) RETURNING id",
      params: [id, name],
    });
    const written = await database.write({
      first: insert(7, "seven"),
      skipped: undefined,
      more: [insert(8, "eight"), insert(9, "nine")],
      count: { sql: "SELECT count(*)::int AS n FROM batch_items WHERE id >= 7", params: [] },
    });
    expect(written).toEqual({
      ok: true,
      rows: { first: [{ id: 7 }], skipped: undefined, more: [[{ id: 8 }], [{ id: 9 }]], count: [{ n: 3 }] },
    });
    const missed = await database.write({
      ten: insert(10, "ten"),
      more: [insert(11, "eleven"), { sql: "SELECT id FROM batch_items WHERE id = 99", params: [], expect: "some" }],
      last: insert(12, "twelve"),
    });
    expect(missed).toEqual({ ok: false, unmet: "more" });
    expect(await names()).toEqual(["one more", "five", "seven", "eight", "nine"]);
  });
});
