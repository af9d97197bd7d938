import type { ProviderCreateInput } from "@cybros/protocol";
import { providerCreateInput } from "@cybros/protocol";
import { eq, inArray } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount, updateSettings } from "../accounts/index.js";
import { llmProviders } from "../db/schema.js";
import { startSignedIn, startTestServer, type TestServer } from "../testing/harness.js";
import { SelfAddressUnknownError } from "./base-url.js";
import { createProvider } from "./index.js";
import { chooseModel, NoProviderForModelError, resolveModel } from "./resolve.js";

let server: TestServer;
// The first in-memory database costs an initdb, slow on a busy machine: pay it under the hook's longer limit.
beforeAll(async () => {
  await (await startTestServer()).close();
});
afterEach(async () => {
  await server.close();
});

async function start(env: Record<string, string> = { CYBROS_MOCK_LLM: "off" }) {
  server = await startTestServer({ env });
}

async function provider(input: Partial<ProviderCreateInput> & { name: string; modelAllowlist: string[] }) {
  const account = await defaultAccount(server.services.db);
  return createProvider(
    server.services,
    account,
    providerCreateInput.parse({ baseUrl: `https://${input.name}.example/v1`, ...input }),
  );
}

async function resolve(prefer: string[]) {
  return resolveModel(server.services, await defaultAccount(server.services.db), prefer);
}

async function resolveError(prefer: string[]): Promise<NoProviderForModelError> {
  const error = await resolve(prefer).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NoProviderForModelError);
  return error as NoProviderForModelError;
}

describe("model resolution", () => {
  it("takes the first preferred model that some enabled provider allows", async () => {
    await start();
    await provider({ name: "one", modelAllowlist: ["b", "c"], imageModels: ["c"], apiKey: "sk-one-000000" });
    const choice = await resolve(["a", "b", "c"]);
    expect(choice).toMatchObject({ model: "b", source: "preferred", acceptsImages: false });
    expect(await resolve(["c"])).toMatchObject({ model: "c", acceptsImages: true });
    expect(choice.provider).toEqual({
      id: expect.any(String),
      name: "one",
      baseUrl: "https://one.example/v1",
      apiKey: "sk-one-000000",
      headers: {},
      apiFormat: "openai",
    });
  });

  it("prefers the highest priority, then the oldest provider, then the lowest id", async () => {
    await start();
    await provider({ name: "low", modelAllowlist: ["m"], priority: -5 });
    const older = await provider({ name: "older", modelAllowlist: ["m"], priority: 3 });
    const newer = await provider({ name: "newer", modelAllowlist: ["m"], priority: 3 });
    expect((await resolve(["m"])).provider.name).toBe("older");

    await server.services.db.update(llmProviders).set({ priority: 4 }).where(eq(llmProviders.id, newer.id));
    expect((await resolve(["m"])).provider.name).toBe("newer");

    await server.services.db.update(llmProviders).set({ priority: 3 }).where(eq(llmProviders.id, newer.id));
    // Age, not the id, decides first: make the newer row look older.
    const earlier = new Date(older.createdAt.getTime() - 60_000);
    await server.services.db.update(llmProviders).set({ createdAt: earlier }).where(eq(llmProviders.id, newer.id));
    expect((await resolve(["m"])).provider.name).toBe("newer");

    // Same priority and the same creation time: the id decides, the same way every time.
    const sameTime = new Date("2025-01-01T00:00:00Z");
    await server.services.db
      .update(llmProviders)
      .set({ priority: 3, createdAt: sameTime })
      .where(inArray(llmProviders.id, [older.id, newer.id]));
    const lowestId = [older.id, newer.id].sort()[0];
    for (let i = 0; i < 3; i++) expect((await resolve(["m"])).provider.id).toBe(lowestId);
  });

  it("skips disabled providers, whatever their priority", async () => {
    await start();
    const top = await provider({ name: "top", modelAllowlist: ["m"], priority: 100, enabled: false });
    await provider({ name: "fallback", modelAllowlist: ["m"] });
    expect((await resolve(["m"])).provider.name).toBe("fallback");

    await server.services.db.update(llmProviders).set({ enabled: true }).where(eq(llmProviders.id, top.id));
    expect((await resolve(["m"])).provider.name).toBe("top");

    await server.services.db.update(llmProviders).set({ enabled: false });
    expect((await resolveError(["m"])).models).toEqual(["m"]);
  });

  it("falls back to the account's default model when no preferred model is served", async () => {
    await start();
    await provider({ name: "one", modelAllowlist: ["house-model"] });
    const account = await defaultAccount(server.services.db);
    await updateSettings(server.services.db, account, { defaultModel: "house-model" });
    expect(await resolve(["missing", "also-missing"])).toMatchObject({
      model: "house-model",
      source: "default",
      provider: { name: "one" },
    });
    expect(await resolve([])).toMatchObject({ model: "house-model", source: "default" });
  });

  it("fails with no_provider_for_model naming every model tried", async () => {
    await start();
    await provider({ name: "one", modelAllowlist: ["other"] });
    const account = await defaultAccount(server.services.db);
    await updateSettings(server.services.db, account, { defaultModel: "house-model" });
    const error = await resolveError(["a", "b"]);
    expect(error.code).toBe("no_provider_for_model");
    expect(error.models).toEqual(["a", "b", "house-model"]);
    expect(error.message).toBe("No enabled provider allows any of these models: a, b, house-model");

    await updateSettings(server.services.db, account, { defaultModel: null });
    expect((await resolveError([])).models).toEqual([]);
  });

  it("gives the built-in mock this server's live address", async () => {
    await start({});
    // A random port is unknowable before listening; choosing needs no address, calling does.
    const account = await defaultAccount(server.services.db);
    expect((await chooseModel(server.services.db, account, ["mock-model"])).provider.name).toBe("Mock LLM");
    await expect(resolve(["mock-model"])).rejects.toBeInstanceOf(SelfAddressUnknownError);
    const url = await server.url();
    const choice = await resolve(["mock-model"]);
    expect(choice.provider).toMatchObject({ name: "Mock LLM", baseUrl: `${url}/mock_llm/v1`, apiKey: null });
    expect(choice.acceptsImages).toBe(true);
  });

  it("gives the built-in mock the configured address before the server listens", async () => {
    await start({ PORT: "45123", HOST: "0.0.0.0" });
    const choice = await resolve(["mock-model"]);
    expect(choice.provider.baseUrl).toBe("http://127.0.0.1:45123/mock_llm/v1");
  });
});

describe("GET /api/providers/resolution", () => {
  it("says which provider serves each model, and the default model", async () => {
    const started = await startSignedIn();
    server = started.server;
    const client = started.client;
    const { id } = await (
      await client.post("/api/providers", {
        name: "Real",
        baseUrl: "https://real.example/v1",
        modelAllowlist: ["gpt", "mock-model"],
        priority: 1,
      })
    ).json();
    const response = await client.get("/api/providers/resolution?models=gpt,%20nope,gpt,mock-model");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      resolutions: [
        { model: "gpt", provider: { id, name: "Real" } },
        { model: "nope", provider: null },
        { model: "mock-model", provider: { id, name: "Real" } },
      ],
      defaultModel: { model: "mock-model", provider: { id, name: "Real" } },
    });
    const none = await (await client.get("/api/providers/resolution")).json();
    expect(none.resolutions).toEqual([]);
  });
});
