import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount, settingsOf, updateSettings } from "../accounts/index.js";
import { loadConfig } from "../config.js";
import type { llmProviders } from "../db/schema.js";
import { createLogger } from "../log.js";
import { createServer } from "../server.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { listProviders, updateProvider } from "./index.js";

let server: TestServer;
// The first in-memory database costs an initdb, slow on a busy machine: pay it under the hook's longer limit.
beforeAll(async () => {
  await (await startTestServer()).close();
});
afterEach(async () => {
  await server.close();
});

/**
 * Starts the server again on the first one's database and data folder (same master key), with `env` as the
 * environment of this start, and stops it: the seeds run exactly as at a real restart.
 */
async function restart(env: Record<string, string> = {}): Promise<string[]> {
  const lines: string[] = [];
  const config = loadConfig({
    CYBROS_DATA_DIR: server.config.dataDir,
    PORT: "0",
    LOG_LEVEL: "debug",
    ...(server.config.databaseUrl ? { DATABASE_URL: server.config.databaseUrl } : {}),
    ...env,
  });
  const log = createLogger("debug", { write: (line: string) => void lines.push(line) });
  const again = await createServer(config, log, { database: server.services.database });
  await again.close();
  return lines;
}

const db = () => server.services.db;
const account = () => defaultAccount(db());
const providers = async () => listProviders(db(), await account());
const defaultModel = async () => settingsOf(await account()).defaultModel;
const keyOf = (row: typeof llmProviders.$inferSelect) =>
  row.apiKeyEncrypted ? server.services.secrets.decrypt(row.apiKeyEncrypted) : null;

describe("mock provider seed", () => {
  it("creates the Mock LLM provider and makes mock-model the default and mock-embedding memory's model", async () => {
    server = await startTestServer();
    const [mock, ...others] = await providers();
    expect(others).toEqual([]);
    expect(mock).toMatchObject({
      name: "Mock LLM",
      baseUrl: "/mock_llm/v1",
      apiKeyEncrypted: null,
      modelAllowlist: ["mock-model", "mock-embedding"],
      imageModels: ["mock-model"],
      priority: 0,
      enabled: true,
    });
    expect(await defaultModel()).toBe("mock-model");
    expect(settingsOf(await account()).embeddingModel).toBe("mock-embedding");
  });

  it("is idempotent across restarts and keeps the user's edits", async () => {
    server = await startTestServer();
    await restart();
    expect(await providers()).toHaveLength(1);

    const [mock] = await providers();
    await updateProvider(server.services, await account(), mock!.id, {
      name: "My mock",
      modelAllowlist: ["mock-model", "mock-large"],
      enabled: false,
    });
    await updateSettings(db(), await account(), { defaultModel: "mock-large" });
    await restart();
    await restart();

    const after = await providers();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: mock!.id, name: "My mock", enabled: false });
    expect(after[0]!.modelAllowlist).toEqual(["mock-model", "mock-large"]);
    expect(await defaultModel()).toBe("mock-large");
  });

  it("does not set the default model when the account already has one", async () => {
    server = await startTestServer({ env: { CYBROS_MOCK_LLM: "off" } });
    await updateSettings(db(), await account(), { defaultModel: "chosen" });
    await restart();
    expect((await providers()).map((p) => p.name)).toEqual(["Mock LLM"]);
    expect(await defaultModel()).toBe("chosen");
  });

  it("creates nothing while the mock is off", async () => {
    server = await startTestServer({ env: { CYBROS_MOCK_LLM: "off" } });
    expect(await providers()).toEqual([]);
    expect(await defaultModel()).toBeNull();
  });
});

describe("environment provider seed", () => {
  const OPENROUTER_KEY = "sk-or-v1-seeded-secret-0000";

  it("creates OpenRouter from OPENROUTER_API_KEY, ahead of the mock, as the default", async () => {
    server = await startTestServer({ env: { OPENROUTER_API_KEY: OPENROUTER_KEY } });
    const [first, second] = await providers();
    expect(first).toMatchObject({
      name: "openrouter",
      baseUrl: "https://openrouter.ai/api/v1",
      modelAllowlist: ["openrouter/auto"],
      priority: 10,
    });
    expect(first!.apiKeyEncrypted).not.toContain(OPENROUTER_KEY);
    expect(keyOf(first!)).toBe(OPENROUTER_KEY);
    expect(second!.name).toBe("Mock LLM");
    expect(await defaultModel()).toBe("openrouter/auto");
    expect(JSON.stringify(server.logs())).not.toContain(OPENROUTER_KEY);
  });

  it("takes the ROADMAP's .env example as one OpenRouter provider", async () => {
    server = await startTestServer({
      env: {
        OPENROUTER_API_KEY: OPENROUTER_KEY,
        LLM_PROVIDER_NAME: "openrouter",
        LLM_PROVIDER_BASE_URL: "https://openrouter.ai/api/v1",
        LLM_PROVIDER_MODELS: "anthropic/claude-sonnet-4, openai/gpt-5",
      },
    });
    const seeded = (await providers()).filter((p) => p.name !== "Mock LLM");
    expect(seeded).toHaveLength(1);
    expect(seeded[0]!.modelAllowlist).toEqual(["anthropic/claude-sonnet-4", "openai/gpt-5"]);
    expect(keyOf(seeded[0]!)).toBe(OPENROUTER_KEY);
    expect(await defaultModel()).toBe("anthropic/claude-sonnet-4");
  });

  it("creates a named provider from LLM_PROVIDER_* once, then leaves it and the default to the user", async () => {
    const env = {
      LLM_PROVIDER_NAME: "LM Studio",
      LLM_PROVIDER_BASE_URL: "http://localhost:1234/v1/",
      LLM_PROVIDER_API_KEY: "lm-studio-key-000",
      LLM_PROVIDER_MODELS: "qwen3-8b,gemma-3-4b",
    };
    server = await startTestServer({ env });
    const [studio] = await providers();
    expect(studio).toMatchObject({
      name: "LM Studio",
      baseUrl: "http://localhost:1234/v1",
      modelAllowlist: ["qwen3-8b", "gemma-3-4b"],
      priority: 10,
    });
    expect(keyOf(studio!)).toBe("lm-studio-key-000");
    expect(await defaultModel()).toBe("qwen3-8b");

    await updateProvider(server.services, await account(), studio!.id, { priority: 2, apiKey: "user-changed-key" });
    await updateSettings(db(), await account(), { defaultModel: "mock-model" });
    await restart(env);

    const after = await providers();
    expect(after.map((p) => p.name)).toEqual(["LM Studio", "Mock LLM"]);
    expect(after[0]!.priority).toBe(2);
    expect(keyOf(after[0]!)).toBe("user-changed-key");
    expect(await defaultModel()).toBe("mock-model");
  });

  it("adds an environment provider on a later start and makes it the default then", async () => {
    server = await startTestServer();
    expect(await defaultModel()).toBe("mock-model");
    await restart({ OPENROUTER_API_KEY: OPENROUTER_KEY });
    expect((await providers()).map((p) => p.name)).toEqual(["openrouter", "Mock LLM"]);
    expect(await defaultModel()).toBe("openrouter/auto");
  });

  it("skips, with a warning, a provider without models or with a bad URL, and still starts", async () => {
    server = await startTestServer({ env: { CYBROS_MOCK_LLM: "off" } });
    const noModels = await restart({
      CYBROS_MOCK_LLM: "off",
      LLM_PROVIDER_NAME: "local",
      LLM_PROVIDER_BASE_URL: "http://localhost:1234/v1",
    });
    expect(noModels.join("\n")).toMatch(/LLM_PROVIDER_MODELS is not/);
    const badUrl = await restart({
      CYBROS_MOCK_LLM: "off",
      LLM_PROVIDER_NAME: "local",
      LLM_PROVIDER_BASE_URL: "ftp://localhost/v1",
      LLM_PROVIDER_MODELS: "m",
    });
    expect(badUrl.join("\n")).toMatch(/seeded LLM provider skipped: invalid values/);
    expect(await providers()).toEqual([]);
    expect(await defaultModel()).toBeNull();
  });
});
