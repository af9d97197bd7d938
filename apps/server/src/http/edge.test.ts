import { afterEach, describe, expect, it } from "vitest";
import { OWNER, startSignedIn, startTestServer, type TestServer } from "../testing/harness.js";

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

const setupBody = JSON.stringify({ ...OWNER, passwordConfirmation: OWNER.password });

describe("cross-site first-run setup", () => {
  it("refuses a no-cors text/plain setup from another site, and setup stays open", async () => {
    server = await startTestServer();
    // What a page elsewhere can send without a preflight: text/plain, its own Origin, no cookie.
    const attack = await server.app.request("/api/setup", {
      method: "POST",
      headers: {
        "content-type": "text/plain;charset=UTF-8",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
      body: setupBody,
    });
    expect(attack.status).toBe(403);
    const plain = await server.app.request("/api/setup", {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: setupBody,
    });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { error: unknown }).error).toMatchObject({ code: "unsupported_media_type" });
    const client = server.client();
    expect((await (await client.get("/api/session")).json()).setupRequired).toBe(true);
  });

  it("refuses a cookieless write whose Origin is another site, and accepts its own", async () => {
    server = await startTestServer();
    const client = server.client();
    client.origin = "https://evil.example";
    const crossOrigin = await client.post("/api/setup", JSON.parse(setupBody));
    expect(crossOrigin.status).toBe(403);
    expect((await crossOrigin.json()).error.code).toBe("csrf_rejected");
    expect((await client.post("/api/session", OWNER, { "sec-fetch-site": "same-site" })).status).toBe(403);
    expect((await (await client.get("/api/session")).json()).setupRequired).toBe(true);

    client.origin = undefined;
    expect((await client.post("/api/setup", JSON.parse(setupBody))).status).toBe(201);
  });

  it("wants application/json on every JSON route", async () => {
    ({ server } = await startSignedIn());
    const client = server.client();
    await client.post("/api/session", OWNER);
    for (const [method, path] of [
      ["POST", "/api/session"],
      ["POST", "/api/conversations"],
      ["PATCH", "/api/account/settings"],
      ["PUT", "/api/profile/password"],
      ["POST", "/api/providers"],
      ["POST", "/api/agents"],
    ] as const) {
      const response = await client.request(method, path, "{}", {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect(response.status, `${method} ${path}`).toBe(415);
    }
  });
});

describe("Host header", () => {
  it("answers loopback names on any port, and refuses other names on every route with 421", async () => {
    server = await startTestServer();
    for (const host of ["127.0.0.1:3000", "localhost", "LOCALHOST:8080", "[::1]:3000"]) {
      expect((await server.app.request("/up", { headers: { host } })).status, host).toBe(200);
    }
    for (const path of ["/up", "/", "/login", "/api/session", "/mock_llm/v1/models", "/favicon.svg"]) {
      const response = await server.app.request(path, { headers: { host: "rebind.evil.example:3000" } });
      expect(response.status, path).toBe(421);
      expect(await response.text()).toMatch(/does not answer to the host name "rebind\.evil\.example"/);
    }
    const forwarded = await server.app.request("/up", {
      headers: { host: "127.0.0.1:3000", "x-forwarded-host": "rebind.evil.example" },
    });
    expect(forwarded.status).toBe(421);
  });

  it("answers the public URL's host and the allowlist's", async () => {
    server = await startTestServer({
      env: { CYBROS_PUBLIC_URL: "https://chat.example.com/", CYBROS_ALLOWED_HOSTS: "nexus.lan, 10.0.0.5" },
    });
    for (const host of ["chat.example.com", "chat.example.com:443", "nexus.lan:3000", "10.0.0.5"]) {
      expect((await server.app.request("/up", { headers: { host } })).status, host).toBe(200);
    }
    expect((await server.app.request("/up", { headers: { host: "example.com" } })).status).toBe(421);
  });
});

describe("response headers", () => {
  it("sends a strict Content-Security-Policy, nosniff and a referrer policy on API, page and error responses", async () => {
    server = await startTestServer();
    const responses = [
      await server.app.request("/up"),
      await server.app.request("/api/session"),
      await server.app.request("/setup"),
      await server.app.request("/api/sessions"),
      await server.app.request("/up", { headers: { host: "rebind.evil.example" } }),
    ];
    for (const response of responses) {
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("img-src 'self' data: blob:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });
});
