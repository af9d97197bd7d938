import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { startSignedIn, startTestServer, type TestClient, type TestServer } from "../testing/harness.js";
import { checkConnection } from "./connection-check.js";

const KEY = "sk-check-key-0123456789";

/** An upstream that refuses the key (echoing it, as OpenAI does) or never answers. */
const hanging = new Set<http.ServerResponse>();
const seen: { url: string | undefined; headers: http.IncomingHttpHeaders }[] = [];
const upstream = http.createServer((req, res) => {
  seen.push({ url: req.url, headers: req.headers });
  if (req.url?.startsWith("/hang/")) return void hanging.add(res);
  const given = (req.headers.authorization ?? "").replace("Bearer ", "");
  res.writeHead(401, { "content-type": "application/json" });
  res.end(
    JSON.stringify({ error: { message: `Incorrect API key provided: ${given}`, type: "invalid_request_error" } }),
  );
});
let base: string;
let closedPortUrl: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPortUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  // The first in-memory database costs an initdb, slow on a busy machine: pay it under the hook's longer limit.
  await (await startTestServer()).close();
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

let server: TestServer;
afterEach(async () => {
  await server.close();
});

async function signedIn(): Promise<TestClient> {
  const started = await startSignedIn();
  server = started.server;
  started.client.origin = await server.url();
  return started.client;
}

async function create(client: TestClient, body: Record<string, unknown>): Promise<string> {
  const response = await client.post("/api/providers", { modelAllowlist: ["some-model"], ...body });
  expect(response.status).toBe(201);
  return (await response.json()).id;
}

describe("Test connection", () => {
  it("asks the built-in mock for one token and records the success", async () => {
    const client = await signedIn();
    const { providers } = await (await client.get("/api/providers")).json();
    const mock = providers.find((p: { name: string }) => p.name === "Mock LLM");

    const response = await client.post(`/api/providers/${mock.id}/connection-check`);
    expect(response.status).toBe(200);
    const { check, provider } = await response.json();
    expect(check).toEqual({
      ok: true,
      message: expect.stringMatching(/^mock-model answered in \d+ ms$/),
      checkedAt: expect.any(String),
    });
    expect(provider.lastCheck).toEqual(check);
    expect((await (await client.get(`/api/providers/${mock.id}`)).json()).lastCheck).toEqual(check);

    const request = server.services.mockLlm!.lastRequest()!;
    expect(request.model).toBe("mock-model");
    expect(request.body).toMatchObject({ max_tokens: 1 });
  });

  it("records a refused key without ever showing or logging it", async () => {
    const client = await signedIn();
    const id = await create(client, { name: "refuses", baseUrl: `${base}/v1`, apiKey: KEY });
    const response = await client.post(`/api/providers/${id}/connection-check`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).not.toContain(KEY);
    const { check } = JSON.parse(text);
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/^some-model: .*HTTP 401.*Incorrect API key provided: \[redacted\]/);
    expect((await (await client.get(`/api/providers/${id}`)).json()).lastCheck).toEqual(check);
    expect(JSON.stringify(server.logs())).not.toContain(KEY);
  });

  it("sends the saved key and header values to the saved base URL only, even after a refused URL change", async () => {
    const client = await signedIn();
    const headers = { "X-Api-Key": "hdr-0123456789" };
    const id = await create(client, { name: "keyed", baseUrl: `${base}/v1`, apiKey: KEY, headers });
    const moved = await client.patch(`/api/providers/${id}`, { baseUrl: `${base}/elsewhere/v1` });
    expect(moved.status).toBe(422);
    seen.length = 0;
    await client.post(`/api/providers/${id}/connection-check`);
    expect(seen.map((r) => r.url)).toEqual(["/v1/chat/completions"]);
    expect(seen[0]!.headers).toMatchObject({ authorization: `Bearer ${KEY}`, "x-api-key": "hdr-0123456789" });
  });

  it("records a connection failure", async () => {
    const client = await signedIn();
    const id = await create(client, { name: "gone", baseUrl: closedPortUrl });
    const { check } = await (await client.post(`/api/providers/${id}/connection-check`)).json();
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/ECONNREFUSED/);
  });

  it("records a timeout", async () => {
    const client = await signedIn();
    const id = await create(client, { name: "silent", baseUrl: `${base}/hang/v1` });
    const account = await defaultAccount(server.services.db);
    const { check } = await checkConnection(server.services, account, id, { timeoutMs: 200 });
    expect(check).toMatchObject({ ok: false, message: "some-model: No answer within 200 ms" });
    expect((await (await client.get(`/api/providers/${id}`)).json()).lastCheck.ok).toBe(false);
  });

  it("answers 404 for a provider that is not this account's", async () => {
    const client = await signedIn();
    const response = await client.post("/api/providers/01890000-0000-7000-8000-000000000000/connection-check");
    expect(response.status).toBe(404);
  });
});
