import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSignedIn, startTestServer, type TestClient, type TestServer } from "../testing/harness.js";

let server: TestServer;
beforeAll(async () => {
  await (await startTestServer()).close();
});
afterEach(async () => {
  await server.close();
});

async function signedIn(): Promise<TestClient> {
  const started = await startSignedIn({ env: { CYBROS_MOCK_LLM: "off" } });
  server = started.server;
  return started.client;
}

describe("account settings API", () => {
  it("answers the defaults, then changes only the keys sent", async () => {
    const client = await signedIn();
    const initial = await (await client.get("/api/account/settings")).json();
    expect(initial).toEqual({
      defaultModel: null,
      embeddingModel: null,
      webSearch: { backend: "none" },
      webFetchAllowlist: [],
      features: {},
    });

    const patched = await client.patch("/api/account/settings", {
      defaultModel: " gpt-4o-mini ",
      features: { beta: true },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ defaultModel: "gpt-4o-mini", features: { beta: true } });

    const again = await client.patch("/api/account/settings", { webFetchAllowlist: ["searx.lan"] });
    expect(await again.json()).toMatchObject({
      defaultModel: "gpt-4o-mini",
      webFetchAllowlist: ["searx.lan"],
      features: { beta: true },
    });

    const cleared = await client.patch("/api/account/settings", { defaultModel: null });
    expect((await cleared.json()).defaultModel).toBeNull();
  });

  it("stores a web search key sealed and never answers it", async () => {
    const client = await signedIn();
    const key = "brave-secret-key-123456";
    const saved = await client.patch("/api/account/settings", { webSearch: { backend: "brave", apiKey: key } });
    expect(saved.status).toBe(200);
    const text = await saved.text();
    expect(text).not.toContain(key);
    expect(JSON.parse(text).webSearch).toEqual({ backend: "brave", apiKeySet: true });
    const read = await (await client.get("/api/account/settings")).text();
    expect(read).not.toContain(key);
    expect(server.logs().some((entry) => JSON.stringify(entry).includes(key))).toBe(false);

    // Switching back to the same backend without a key keeps the stored one.
    const kept = await client.patch("/api/account/settings", { webSearch: { backend: "brave" } });
    expect(kept.status).toBe(200);
  });

  it("answers 422 with per-field messages for bad input, and changes nothing", async () => {
    const client = await signedIn();
    const bad = await client.patch("/api/account/settings", {
      defaultModel: "",
      webSearch: { backend: "searxng", url: "not a url" },
      features: { beta: "yes" },
    });
    expect(bad.status).toBe(422);
    const { error } = await bad.json();
    expect(Object.keys(error.fields).sort()).toEqual(["defaultModel", "features.beta", "webSearch.url"]);

    const keyless = await client.patch("/api/account/settings", { webSearch: { backend: "tavily" } });
    expect(keyless.status).toBe(422);
    expect((await keyless.json()).error.fields).toEqual({ "webSearch.apiKey": "is required" });

    expect((await (await client.get("/api/account/settings")).json()).webSearch).toEqual({ backend: "none" });
  });

  it("needs a session", async () => {
    const started = await startTestServer();
    server = started;
    const response = await started.client().get("/api/account/settings");
    expect(response.status).toBe(401);
  });
});
