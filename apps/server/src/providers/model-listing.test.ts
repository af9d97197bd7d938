import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSignedIn, startTestServer, type TestClient, type TestServer } from "../testing/harness.js";
import { listModels } from "./model-listing.js";

const KEY = "sk-listing-key-0123456789";

/** A small OpenAI-ish upstream, one behaviour per path prefix; it records the headers it was sent. */
const seen: http.IncomingHttpHeaders[] = [];
const hanging = new Set<http.ServerResponse>();
const upstream = http.createServer((req, res) => {
  seen.push(req.headers);
  const send = (status: number, body: unknown, type = "application/json") => {
    res.writeHead(status, { "content-type": type });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  if (req.url === "/ok/v1/models") return send(200, { object: "list", data: [{ id: "zeta" }, { id: "alpha" }] });
  if (req.url === "/mixed/v1/models") {
    const data = [
      { id: "qwen3-8b", type: "llm" },
      { id: "text-embedding-3-small" },
      { id: "nomic-embed-text-v1.5" },
      { id: "jina-v3-retrieval", type: "embeddings" },
      { id: "bge-m3" },
      { id: "llama-3.1-8b-instruct" },
    ];
    return send(200, { object: "list", data });
  }
  if (req.url === "/unauthorized/v1/models") {
    // Like OpenAI: the error message echoes the key it was given.
    const given = (req.headers.authorization ?? "").replace("Bearer ", "");
    return send(401, { error: { message: `Incorrect API key provided: ${given}`, type: "invalid_request_error" } });
  }
  if (req.url === "/html/v1/models") return send(502, "<html><body>Bad gateway</body></html>", "text/html");
  if (req.url === "/weird/v1/models") return send(200, { models: ["a"] });
  if (req.url === "/hang/v1/models") return void hanging.add(res);
  send(404, { error: { message: "Not found" } });
});
let base: string;
let closedPortUrl: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  // A port that was just free: nothing listens there now.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPortUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

let server: TestServer | undefined;
// The first in-memory database costs an initdb, slow on a busy machine: pay it under the hook's longer limit.
beforeAll(async () => {
  await (await startTestServer()).close();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function signedIn(): Promise<TestClient> {
  const started = await startSignedIn();
  server = started.server;
  return started.client;
}

const listing = (client: TestClient, body: Record<string, unknown>) =>
  client.post("/api/providers/model-listing", body).then(async (r) => {
    expect(r.status).toBe(200);
    return r.json();
  });

describe("Fetch Models", () => {
  it("lists embedding models apart from chat models, by id or by the listing's type", async () => {
    const client = await signedIn();
    const result = await listing(client, { baseUrl: `${base}/mixed/v1` });
    expect(result).toEqual({
      ok: true,
      models: ["llama-3.1-8b-instruct", "qwen3-8b"],
      embeddingModels: ["bge-m3", "jina-v3-retrieval", "nomic-embed-text-v1.5", "text-embedding-3-small"],
    });
  });

  it("lists model ids with the submitted, unsaved key and headers", async () => {
    const client = await signedIn();
    seen.length = 0;
    const result = await listing(client, {
      baseUrl: `${base}/ok/v1/`,
      apiKey: KEY,
      headers: '{"X-Title": "Cybros"}',
    });
    expect(result).toEqual({ ok: true, models: ["alpha", "zeta"], embeddingModels: [] });
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${KEY}`, "x-title": "Cybros" });
  });

  it("uses the saved provider's key when the form leaves the key empty", async () => {
    const client = await signedIn();
    const { id } = await (
      await client.post("/api/providers", { name: "up", baseUrl: `${base}/ok/v1`, apiKey: KEY, modelAllowlist: ["x"] })
    ).json();
    seen.length = 0;
    expect((await listing(client, { baseUrl: `${base}/ok/v1`, apiKey: "", providerId: id })).ok).toBe(true);
    expect(seen[0]!.authorization).toBe(`Bearer ${KEY}`);

    // A key typed into the form wins over the saved one.
    seen.length = 0;
    await listing(client, { baseUrl: `${base}/ok/v1`, apiKey: "sk-typed-00000000", providerId: id });
    expect(seen[0]!.authorization).toBe("Bearer sk-typed-00000000");

    // No key at all sends no Authorization header.
    seen.length = 0;
    await listing(client, { baseUrl: `${base}/ok/v1` });
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it("sends the saved key and header values only to the saved base URL; another URL must bring its own", async () => {
    const client = await signedIn();
    const saved = { name: "up", baseUrl: `${base}/ok/v1`, apiKey: KEY, headers: { "X-Api-Key": "hdr-0123456789" } };
    const { id } = await (await client.post("/api/providers", { ...saved, modelAllowlist: ["x"] })).json();
    seen.length = 0;
    expect((await listing(client, { baseUrl: `${base}/ok/v1/`, providerId: id })).ok).toBe(true);
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${KEY}`, "x-api-key": "hdr-0123456789" });

    // The attack: the saved provider's id with a URL of the caller's choosing. Nothing is sent anywhere.
    seen.length = 0;
    const elsewhere = `${base}/unauthorized/v1`;
    const refused = await client.post("/api/providers/model-listing", {
      baseUrl: elsewhere,
      apiKey: "",
      providerId: id,
    });
    expect(refused.status).toBe(422);
    expect((await refused.json()).error.fields).toEqual({
      apiKey: expect.stringMatching(/^must be typed again for the new base URL: a saved key/),
      headers: expect.stringMatching(/^must be typed again for the new base URL: saved values/),
    });
    expect(seen).toEqual([]);

    // Typed again, they go to the new URL; none of the saved ones do.
    await client.post("/api/providers/model-listing", {
      baseUrl: elsewhere,
      apiKey: "sk-typed-00000000",
      headers: "",
      providerId: id,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBe("Bearer sk-typed-00000000");
    expect(seen[0]!["x-api-key"]).toBeUndefined();
  });

  it("reports an HTTP error with its status and the provider's message, with the key redacted", async () => {
    const client = await signedIn();
    const result = await listing(client, { baseUrl: `${base}/unauthorized/v1`, apiKey: KEY });
    expect(result).toEqual({
      ok: false,
      code: "http_error",
      status: 401,
      message: "HTTP 401: Incorrect API key provided: [redacted]",
    });

    const html = await listing(client, { baseUrl: `${base}/html/v1` });
    expect(html).toEqual({ ok: false, code: "http_error", status: 502, message: "HTTP 502: Bad Gateway" });
    expect(JSON.stringify(server!.logs())).not.toContain(KEY);
  });

  it("says when a provider has no models endpoint or answers something else", async () => {
    const client = await signedIn();
    const missing = await listing(client, { baseUrl: `${base}/nothing-here/v1` });
    expect(missing).toMatchObject({ ok: false, code: "unsupported", status: 404 });
    expect(missing.message).toMatch(/does not list its models \(HTTP 404/);
    const weird = await listing(client, { baseUrl: `${base}/weird/v1` });
    expect(weird).toMatchObject({ ok: false, code: "unsupported" });
    expect(weird.message).toMatch(/something other than a model list/);
  });

  it("reports a connection failure", async () => {
    const client = await signedIn();
    const result = await listing(client, { baseUrl: closedPortUrl });
    expect(result.ok).toBe(false);
    expect(result.code).toBe("connection_failed");
    expect(result.message).toMatch(/^Connection failed: .*ECONNREFUSED/);
  });

  it("gives up on a provider that never answers", async () => {
    const result = await listModels({ baseUrl: `${base}/hang/v1`, apiKey: null, headers: {} }, { timeoutMs: 200 });
    expect(result).toEqual({
      ok: false,
      code: "timeout",
      message: "Request timed out: no answer to GET /models within 200 ms",
    });
  });

  it("validates the form values and the provider id", async () => {
    const client = await signedIn();
    const invalid = await client.post("/api/providers/model-listing", { baseUrl: "nope", headers: '{"a": 1}' });
    expect(invalid.status).toBe(422);
    expect((await invalid.json()).error.fields).toEqual({
      baseUrl: expect.stringMatching(/must be an http/),
      "headers.a": "must be a string",
    });
    const unknown = await client.post("/api/providers/model-listing", {
      baseUrl: `${base}/ok/v1`,
      providerId: "01890000-0000-7000-8000-000000000000",
    });
    expect(unknown.status).toBe(404);
  });

  it("lists the built-in mock's models through this server's own address", async () => {
    const client = await signedIn();
    client.origin = await server!.url();
    const result = await listing(client, { baseUrl: "/mock_llm/v1" });
    expect(result.ok).toBe(true);
    expect(result.models).toContain("mock-model");
  });
});
