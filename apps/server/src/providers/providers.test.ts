import fs from "node:fs";
import path from "node:path";
import { providerCreateInput } from "@cybros/protocol";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { repoRoot } from "../config.js";
import { accounts, llmProviders } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import { startSignedIn, startTestServer, type TestClient, type TestServer } from "../testing/harness.js";
import { createProvider, headersOf, sealPlainHeaderValues } from "./index.js";

let server: TestServer;
// The first in-memory database costs an initdb, slow on a busy machine: pay it under the hook's longer limit.
beforeAll(async () => {
  await (await startTestServer()).close();
});
afterEach(async () => {
  await server.close();
});

// No mock: these tests manage every provider themselves.
async function signedIn(): Promise<TestClient> {
  const started = await startSignedIn({ env: { CYBROS_MOCK_LLM: "off" } });
  server = started.server;
  return started.client;
}

const KEY = "sk-test-0123456789-very-secret";
/** Some APIs take their key in a header: header values are as secret as the key. */
const HEADER_SECRET = "hdr-secret-0123456789";

const valid = {
  name: "Local vLLM",
  baseUrl: "http://localhost:8000/v1/",
  apiKey: KEY,
  headers: `{"X-Title": "Cybros", "X-Api-Key": "${HEADER_SECRET}"}`,
  modelAllowlist: ["qwen3-8b", "llama-3.1-8b"],
};

async function fieldsOf(response: Response): Promise<Record<string, string>> {
  expect(response.status).toBe(422);
  const body = (await response.json()) as { error: { code: string; fields: Record<string, string> } };
  expect(body.error.code).toBe("validation_failed");
  return body.error.fields;
}

describe("provider CRUD", () => {
  it("creates, lists, reads, updates and deletes, never showing the key", async () => {
    const client = await signedIn();
    const created = await client.post("/api/providers", valid);
    expect(created.status).toBe(201);
    const provider = await created.json();
    expect(provider).toMatchObject({
      name: "Local vLLM",
      baseUrl: "http://localhost:8000/v1",
      apiFormat: "openai",
      apiKeySet: true,
      headersSet: ["X-Title", "X-Api-Key"],
      modelAllowlist: ["qwen3-8b", "llama-3.1-8b"],
      priority: 0,
      enabled: true,
      lastCheck: null,
    });
    expect(provider).not.toHaveProperty("apiKey");

    const list = await (await client.get("/api/providers")).json();
    expect(list.providers.map((p: { id: string }) => p.id)).toEqual([provider.id]);
    expect((await (await client.get(`/api/providers/${provider.id}`)).json()).name).toBe("Local vLLM");

    const renamed = await client.patch(`/api/providers/${provider.id}`, { name: "vLLM", priority: 5, enabled: false });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({
      name: "vLLM",
      priority: 5,
      enabled: false,
      apiKeySet: true,
      headersSet: ["X-Title", "X-Api-Key"],
      modelAllowlist: ["qwen3-8b", "llama-3.1-8b"],
    });

    const deleted = await client.delete(`/api/providers/${provider.id}`);
    expect(deleted.status).toBe(204);
    expect((await client.get(`/api/providers/${provider.id}`)).status).toBe(404);
    expect((await (await client.get("/api/providers")).json()).providers).toEqual([]);
  });

  it("stores the key encrypted; omitted keeps it, a new one replaces it, null or blank clears it", async () => {
    const client = await signedIn();
    const { id } = await (await client.post("/api/providers", valid)).json();
    const storedKey = async () => {
      const [row] = await server.services.db.select().from(llmProviders).where(eq(llmProviders.id, id));
      expect(row!.apiKeyEncrypted ?? "").not.toContain(KEY);
      return row!.apiKeyEncrypted ? server.services.secrets.decrypt(row!.apiKeyEncrypted) : null;
    };
    expect(await storedKey()).toBe(KEY);

    expect((await (await client.patch(`/api/providers/${id}`, { priority: 1 })).json()).apiKeySet).toBe(true);
    expect(await storedKey()).toBe(KEY);

    await client.patch(`/api/providers/${id}`, { apiKey: "sk-replaced-key-000" });
    expect(await storedKey()).toBe("sk-replaced-key-000");

    expect((await (await client.patch(`/api/providers/${id}`, { apiKey: null })).json()).apiKeySet).toBe(false);
    expect(await storedKey()).toBeNull();

    await client.patch(`/api/providers/${id}`, { apiKey: "sk-again-000000" });
    expect((await (await client.patch(`/api/providers/${id}`, { apiKey: "" })).json()).apiKeySet).toBe(false);
    expect(await storedKey()).toBeNull();
  });

  it("accepts headers as an object or as JSON text, and blank text as no headers", async () => {
    const client = await signedIn();
    const asObject = await client.post("/api/providers", { ...valid, name: "a", headers: { "HTTP-Referer": "x" } });
    expect((await asObject.json()).headersSet).toEqual(["HTTP-Referer"]);
    const blank = await client.post("/api/providers", { ...valid, name: "b", headers: "  " });
    expect((await blank.json()).headersSet).toEqual([]);
    const omitted = await client.post("/api/providers", { ...valid, name: "c", headers: undefined });
    expect((await omitted.json()).headersSet).toEqual([]);
  });

  it("keeps header values sealed like the key: never answered, omitted keeps them, given replaces them", async () => {
    const client = await signedIn();
    const created = await client.post("/api/providers", valid);
    const { id } = await created.json();
    const storedHeaders = async () => {
      const [row] = await server.services.db.select().from(llmProviders).where(eq(llmProviders.id, id));
      expect(JSON.stringify(row!.headersEncrypted)).not.toContain(HEADER_SECRET);
      return headersOf(server.services, row!);
    };
    expect(await storedHeaders()).toEqual({ "X-Title": "Cybros", "X-Api-Key": HEADER_SECRET });

    const answers = [
      await (await client.get("/api/providers")).text(),
      await (await client.get(`/api/providers/${id}`)).text(),
      await (await client.patch(`/api/providers/${id}`, { priority: 2 })).text(),
    ];
    for (const text of answers) expect(text).not.toContain(HEADER_SECRET);
    expect(await storedHeaders()).toEqual({ "X-Title": "Cybros", "X-Api-Key": HEADER_SECRET });

    const replaced = await client.patch(`/api/providers/${id}`, { headers: { "X-Api-Key": "hdr-new-value-000" } });
    expect((await replaced.json()).headersSet).toEqual(["X-Api-Key"]);
    expect(await storedHeaders()).toEqual({ "X-Api-Key": "hdr-new-value-000" });
  });

  it("asks for the key and header values again when the base URL changes, and nothing changes until then", async () => {
    const client = await signedIn();
    const { id } = await (await client.post("/api/providers", valid)).json();
    const moved = { baseUrl: "https://elsewhere.example/v1" };
    expect(await fieldsOf(await client.patch(`/api/providers/${id}`, moved))).toEqual({
      apiKey: expect.stringMatching(/^must be typed again for the new base URL: a saved key/),
      headers: expect.stringMatching(/^must be typed again for the new base URL: saved values/),
    });
    expect(await fieldsOf(await client.patch(`/api/providers/${id}`, { ...moved, apiKey: "sk-new-000000" }))).toEqual({
      headers: expect.any(String),
    });
    expect((await (await client.get(`/api/providers/${id}`)).json()).baseUrl).toBe("http://localhost:8000/v1");

    // The same URL spelled with a trailing slash is not a change.
    expect((await client.patch(`/api/providers/${id}`, { baseUrl: "http://localhost:8000/v1/" })).status).toBe(200);
    const retyped = await client.patch(`/api/providers/${id}`, { ...moved, apiKey: null, headers: { "X-Title": "C" } });
    expect(retyped.status).toBe(200);
    expect(await retyped.json()).toMatchObject({ ...moved, apiKeySet: false, headersSet: ["X-Title"] });
  });

  it("seals header values that were stored in plain before the migration to sealed headers", async () => {
    await signedIn();
    const { db } = server.services;
    const account = await defaultAccount(db);
    const { id } = await createProvider(server.services, account, { ...providerCreateInput.parse(valid), headers: {} });
    // The table as it was before the migration: plaintext values in `headers`.
    await db.execute(sql`ALTER TABLE llm_providers ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'`);
    await db.execute(sql`UPDATE llm_providers SET headers = ${JSON.stringify({ "X-Api-Key": HEADER_SECRET })}::jsonb`);
    const migration = fs.readFileSync(
      path.join(repoRoot, "apps/server/drizzle/0004_provider_header_secrets.sql"),
      "utf8",
    );
    for (const statement of migration.split("--> statement-breakpoint").slice(1)) await db.execute(sql.raw(statement));
    await sealPlainHeaderValues(server.services);

    const [row] = await db.select().from(llmProviders).where(eq(llmProviders.id, id));
    expect(JSON.stringify(row)).not.toContain(HEADER_SECRET);
    expect(headersOf(server.services, row!)).toEqual({ "X-Api-Key": HEADER_SECRET });
  });

  it("never logs a header value, even when the insert fails", async () => {
    await signedIn();
    const account = await defaultAccount(server.services.db);
    const input = providerCreateInput.parse(valid);
    // Past the schema (a verb called directly): PostgreSQL refuses the name, and the failed query is logged.
    const failure = await createProvider(server.services, account, { ...input, name: "bad\u0000name" }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    const logged = JSON.stringify({ message: String(failure), cause: String((failure as Error).cause) });
    expect(logged).toContain("llm_providers");
    expect(logged).not.toContain(HEADER_SECRET);
    expect(logged).not.toContain(KEY);
  });

  it("accepts the allowlist as comma- or line-separated text, without blanks or repeats", async () => {
    const client = await signedIn();
    const created = await client.post("/api/providers", { ...valid, modelAllowlist: "a, b\nc,,a\n" });
    expect((await created.json()).modelAllowlist).toEqual(["a", "b", "c"]);
  });

  it("keeps the models that accept images within the allowlist", async () => {
    const client = await signedIn();
    const stray = await client.post("/api/providers", { ...valid, imageModels: ["qwen3-8b", "gpt-4o"] });
    expect((await fieldsOf(stray)).imageModels).toBe("must be models of the allowlist; not allowed: gpt-4o");
    const created = await client.post("/api/providers", { ...valid, imageModels: ["qwen3-8b"] });
    const provider = await created.json();
    expect(provider.imageModels).toEqual(["qwen3-8b"]);
    expect((await (await client.post("/api/providers", { ...valid, name: "b" })).json()).imageModels).toEqual([]);

    const path = `/api/providers/${provider.id}`;
    const refused = await client.patch(path, { imageModels: ["llama-3.1-8b", "gpt-4o"] });
    expect((await fieldsOf(refused)).imageModels).toContain("not allowed: gpt-4o");
    const both = await client.patch(path, { imageModels: ["qwen3-8b", "llama-3.1-8b"] });
    expect((await both.json()).imageModels).toEqual(["qwen3-8b", "llama-3.1-8b"]);
    // A model taken off the allowlist no longer accepts images; one added does not until ticked.
    const narrowed = await client.patch(path, { modelAllowlist: ["llama-3.1-8b", "phi-4"] });
    expect(await narrowed.json()).toMatchObject({
      modelAllowlist: ["llama-3.1-8b", "phi-4"],
      imageModels: ["llama-3.1-8b"],
    });
  });

  it("lists providers in resolution order: priority first, then age", async () => {
    const client = await signedIn();
    await client.post("/api/providers", { ...valid, name: "low", priority: -1 });
    await client.post("/api/providers", { ...valid, name: "first zero" });
    await client.post("/api/providers", { ...valid, name: "high", priority: 7 });
    await client.post("/api/providers", { ...valid, name: "second zero" });
    const { providers } = await (await client.get("/api/providers")).json();
    expect(providers.map((p: { name: string }) => p.name)).toEqual(["high", "first zero", "second zero", "low"]);
  });

  it("answers 404 for unknown, malformed and other accounts' ids", async () => {
    const client = await signedIn();
    const [other] = await server.services.db
      .insert(accounts)
      .values({ id: uuidv7(), name: "Other", settings: {} })
      .returning();
    const foreign = await createProvider(server.services, other!, {
      name: "theirs",
      baseUrl: "http://example.com/v1",
      apiFormat: "openai",
      headers: {},
      modelAllowlist: ["m"],
      imageModels: [],
      priority: 0,
      enabled: true,
    });
    for (const id of [foreign.id, uuidv7(), "not-a-uuid"]) {
      expect((await client.get(`/api/providers/${id}`)).status, id).toBe(404);
      expect((await client.patch(`/api/providers/${id}`, { name: "mine" })).status, id).toBe(404);
      expect((await client.delete(`/api/providers/${id}`)).status, id).toBe(404);
    }
    expect((await (await client.get("/api/providers")).json()).providers).toEqual([]);
    const [still] = await server.services.db.select().from(llmProviders).where(eq(llmProviders.id, foreign.id));
    expect(still!.name).toBe("theirs");
    // The same name is free in this account: uniqueness is per account.
    expect((await client.post("/api/providers", { ...valid, name: "THEIRS" })).status).toBe(201);
  });

  it("requires a session", async () => {
    await signedIn();
    const anonymous = server.client();
    expect((await anonymous.get("/api/providers")).status).toBe(401);
    expect((await anonymous.post("/api/providers", valid)).status).toBe(401);
  });
});

describe("provider validation", () => {
  it("reports invalid headers JSON, non-object headers and non-string values by field", async () => {
    const client = await signedIn();
    expect(await fieldsOf(await client.post("/api/providers", { ...valid, headers: "{nope" }))).toEqual({
      headers: "is not valid JSON",
    });
    expect((await fieldsOf(await client.post("/api/providers", { ...valid, headers: "[1]" }))).headers).toMatch(
      /must be a JSON object/,
    );
    const nonString = await client.post("/api/providers", { ...valid, headers: '{"X-Foo": 1, "X-Bar": "ok"}' });
    expect(await fieldsOf(nonString)).toEqual({ "headers.X-Foo": "must be a string" });
    const badName = await client.post("/api/providers", { ...valid, headers: { "Bad Name": "x" } });
    expect(await fieldsOf(badName)).toEqual({ "headers.Bad Name": "is not a valid header name" });
    const newline = await client.post("/api/providers", { ...valid, headers: { "X-A": "a\r\nX-B: b" } });
    expect(await fieldsOf(newline)).toEqual({ "headers.X-A": "must not contain line breaks" });
  });

  it("requires a non-empty allowlist", async () => {
    const client = await signedIn();
    for (const modelAllowlist of [[], "", " , \n", ["  "]]) {
      const fields = await fieldsOf(await client.post("/api/providers", { ...valid, modelAllowlist }));
      expect(fields, JSON.stringify(modelAllowlist)).toEqual({ modelAllowlist: "must list at least one model" });
    }
    const { modelAllowlist: _, ...without } = valid;
    expect(Object.keys(await fieldsOf(await client.post("/api/providers", without)))).toEqual(["modelAllowlist"]);
    const numbers = await client.post("/api/providers", { ...valid, modelAllowlist: [1, 2] });
    expect(Object.keys(await fieldsOf(numbers))).toEqual(["modelAllowlist"]);
  });

  it("requires an http(s) base URL", async () => {
    const client = await signedIn();
    for (const baseUrl of ["", "localhost:1234/v1", "ftp://example.com", "http://", "javascript:alert(1)", "/v1"]) {
      const fields = await fieldsOf(await client.post("/api/providers", { ...valid, baseUrl }));
      expect(Object.keys(fields), baseUrl).toEqual(["baseUrl"]);
    }
    const fields = await fieldsOf(await client.post("/api/providers", { ...valid, baseUrl: "ftp://example.com" }));
    expect(fields.baseUrl).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
  });

  it("accepts only the openai format, with a clear message", async () => {
    const client = await signedIn();
    const fields = await fieldsOf(await client.post("/api/providers", { ...valid, apiFormat: "anthropic" }));
    expect(fields).toEqual({ apiFormat: 'must be "openai" (the only format supported for now)' });
  });

  it("rejects other malformed fields without a 500", async () => {
    const client = await signedIn();
    const fields = await fieldsOf(
      await client.post("/api/providers", { name: "  ", baseUrl: 5, priority: 1.5, enabled: "yes", apiKey: 7 }),
    );
    expect(fields).toMatchObject({
      name: "is required",
      priority: "must be a whole number",
      enabled: "must be true or false",
      apiKey: "must be text",
    });
    expect(Object.keys(fields).sort()).toEqual(["apiKey", "baseUrl", "enabled", "modelAllowlist", "name", "priority"]);
    const malformed = await client.post("/api/providers", "{not json");
    expect(malformed.status).toBe(400);
  });

  it("rejects a duplicate name in any case, on create and on rename", async () => {
    const client = await signedIn();
    await client.post("/api/providers", valid);
    const duplicate = await client.post("/api/providers", { ...valid, name: "LOCAL vllm" });
    expect(await fieldsOf(duplicate)).toEqual({ name: "is already used by another provider" });

    const { id } = await (await client.post("/api/providers", { ...valid, name: "Other" })).json();
    const rename = await client.patch(`/api/providers/${id}`, { name: "local VLLM" });
    expect(await fieldsOf(rename)).toEqual({ name: "is already used by another provider" });
    // Keeping its own name (in another case) is not a clash.
    expect((await client.patch(`/api/providers/${id}`, { name: "OTHER" })).status).toBe(200);
  });

  it("lets exactly one of two simultaneous creates with one name through", async () => {
    const client = await signedIn();
    const results = await Promise.all([
      client.post("/api/providers", valid),
      client.post("/api/providers", { ...valid, name: valid.name.toUpperCase() }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 422]);
    expect((await (await client.get("/api/providers")).json()).providers).toHaveLength(1);
  });

  it("validates updates field by field and changes nothing on failure", async () => {
    const client = await signedIn();
    const { id } = await (await client.post("/api/providers", valid)).json();
    const fields = await fieldsOf(
      await client.patch(`/api/providers/${id}`, { modelAllowlist: [], headers: "{", baseUrl: "nope" }),
    );
    expect(fields).toEqual({
      modelAllowlist: "must list at least one model",
      headers: "is not valid JSON",
      baseUrl: expect.stringMatching(/must be an http/),
    });
    const unchanged = await (await client.get(`/api/providers/${id}`)).json();
    expect(unchanged.modelAllowlist).toEqual(valid.modelAllowlist);
  });
});

describe("key secrecy", () => {
  it("never puts the key in a response or a log line", async () => {
    const client = await signedIn();
    const bodies: string[] = [];
    const created = await client.post("/api/providers", valid);
    bodies.push(await created.clone().text());
    const { id } = await created.json();
    bodies.push(await (await client.patch(`/api/providers/${id}`, { apiKey: `${KEY}-2` })).text());
    bodies.push(await (await client.get(`/api/providers/${id}`)).text());
    bodies.push(await (await client.get("/api/providers")).text());
    bodies.push(await (await client.post("/api/providers", { ...valid, headers: "{" })).text());
    bodies.push(await (await client.post("/api/providers", valid)).text());
    for (const body of bodies) expect(body).not.toContain(KEY);
    expect(bodies.join("\n")).toContain("apiKeySet");
    expect(JSON.stringify(server.logs())).not.toContain(KEY);
  });
});
