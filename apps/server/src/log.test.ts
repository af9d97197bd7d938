import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { identities } from "./db/schema.js";
import { startSignedIn, type TestServer } from "./testing/harness.js";

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

it("logs a failed query's statement and cause, never its values", async () => {
  ({ server } = await startSignedIn());
  const { db, log } = server.services;
  const private_ = "my private conversation text";
  const failed = await db.execute(sql`SELECT ${private_}::int`).catch((error: unknown) => error);
  const [owner] = await db.select().from(identities);
  const duplicate = await db
    .insert(identities)
    .values({ ...owner!, passwordHash: "x" })
    .catch((error: unknown) => error);
  log.error({ err: failed }, "query failed");
  log.error({ err: duplicate }, "insert failed");

  const [castLine, duplicateLine] = server.logs().filter((line) => /failed$/.test(String(line.msg)));
  const cast = JSON.stringify(castLine);
  expect(cast).toContain("Failed query: SELECT $1::int");
  expect(cast).toContain("invalid input syntax for type integer");
  expect(cast).not.toContain("private conversation");

  const unique = JSON.stringify(duplicateLine);
  expect(unique).toContain('insert into \\"identities\\"');
  expect(unique).toContain("duplicate key value violates unique constraint");
  expect(unique).not.toContain(owner!.email);
  expect(unique).not.toContain(owner!.id);
});
