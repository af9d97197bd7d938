import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../config.js";
import { sessions } from "../db/schema.js";
import { OWNER, startSignedIn, startTestServer, type TestServer } from "../testing/harness.js";

let server: TestServer;
afterEach(async () => {
  await server.close();
});

async function signedIn() {
  const started = await startSignedIn();
  server = started.server;
  return started.client;
}

const setupBody = { ...OWNER, passwordConfirmation: OWNER.password };

describe("first-run setup", () => {
  it("happens once, signs in, and then no longer exists", async () => {
    server = await startTestServer();
    const client = server.client();
    expect(await (await client.get("/api/session")).json()).toMatchObject({ setupRequired: true, user: null });

    const created = await client.post("/api/setup", setupBody);
    expect(created.status).toBe(201);
    const state = await (await client.get("/api/session")).json();
    expect(state).toMatchObject({ setupRequired: false, user: { email: OWNER.email, role: "owner" } });

    const again = await server.client().post("/api/setup", { ...setupBody, email: "other@example.com" });
    expect(again.status).toBe(404);
  });

  it("rejects bad input field by field and creates nothing", async () => {
    server = await startTestServer();
    const client = server.client();
    const response = await client.post("/api/setup", { email: "nope", password: "short", passwordConfirmation: "x" });
    expect(response.status).toBe(422);
    const body = await response.json();
    expect(body.error.fields).toEqual({
      email: "is not a valid email address",
      password: "must be at least 8 characters",
      passwordConfirmation: "does not match the password",
    });
    const mismatch = await client.post("/api/setup", { ...setupBody, passwordConfirmation: "something else" });
    expect((await mismatch.json()).error.fields).toEqual({ passwordConfirmation: "does not match the password" });
    expect((await (await client.get("/api/session")).json()).setupRequired).toBe(true);
  });

  it("answers malformed JSON with 400 and oversized bodies with 413", async () => {
    server = await startTestServer();
    const client = server.client();
    const malformed = await client.post("/api/setup", "{not json");
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("invalid_json");
    const huge = await client.post("/api/setup", JSON.stringify({ email: "a".repeat(MAX_REQUEST_BODY_BYTES) }));
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe("payload_too_large");
  });

  it("lets exactly one of two simultaneous setups through", async () => {
    server = await startTestServer();
    const results = await Promise.all([
      server.client().post("/api/setup", setupBody),
      server.client().post("/api/setup", { ...setupBody, email: "second@example.com" }),
    ]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.every((r) => r.status < 500)).toBe(true);
  });

  it("redirects every page to /setup before setup and /setup to /login after", async () => {
    server = await startTestServer();
    const client = server.client();
    for (const page of ["/", "/conversations", "/login", "/settings"]) {
      const response = await client.get(page);
      expect(response.status, page).toBe(302);
      expect(response.headers.get("location")).toBe("/setup");
    }
    await client.post("/api/setup", setupBody);
    const anonymous = server.client();
    expect((await anonymous.get("/setup")).headers.get("location")).toBe("/login");
    expect((await anonymous.get("/conversations")).headers.get("location")).toBe("/login?next=%2Fconversations");
    expect((await client.get("/login")).headers.get("location")).toBe("/conversations");
  });
});

describe("sessions", () => {
  it("sets a signed, HttpOnly, SameSite=Lax cookie, Secure only over https", async () => {
    server = await startTestServer();
    const response = await server.app.request("/api/setup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(setupBody),
    });
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^cybros_session=[^;]+\.[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);

    const https = await server.app.request("https://localhost/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: OWNER.email, password: OWNER.password }),
    });
    expect(https.status).toBe(201);
    expect(https.headers.get("set-cookie")).toMatch(/Secure/);
  });

  it("logs in with the right password, any email case, and one generic error otherwise", async () => {
    await signedIn();
    const client = server.client();
    const ok = await client.post("/api/session", { email: OWNER.email.toUpperCase(), password: OWNER.password });
    expect(ok.status).toBe(201);
    expect((await (await client.get("/api/session")).json()).user.email).toBe(OWNER.email);

    const wrong = await server.client().post("/api/session", { email: OWNER.email, password: "wrong password" });
    const unknown = await server.client().post("/api/session", { email: "who@example.com", password: "whatever1" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).error).toEqual((await unknown.json()).error);
  });

  it("rate-limits repeated failed logins", async () => {
    await signedIn();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await server.client().post("/api/session", { email: OWNER.email, password: `wrong-${i}` });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it("never limits successful logins, however many come from one address", async () => {
    await signedIn();
    for (let i = 0; i < 15; i++) {
      const r = await server.client().post("/api/session", OWNER);
      expect(r.status).toBe(201);
    }
    const wrong = await server.client().post("/api/session", { email: OWNER.email, password: "wrong password" });
    expect(wrong.status).toBe(401);
  });

  it("rejects a forged or tampered cookie", async () => {
    const client = await signedIn();
    const value = client.cookie("cybros_session")!;
    client.setCookie("cybros_session", `x${value}`);
    expect((await (await client.get("/api/session")).json()).user).toBeNull();
    expect((await client.get("/api/sessions")).status).toBe(401);
  });

  it("logout ends this session; sign-out-all ends every session", async () => {
    const first = await signedIn();
    const second = server.client();
    await second.post("/api/session", { email: OWNER.email, password: OWNER.password });
    const third = server.client();
    await third.post("/api/session", { email: OWNER.email, password: OWNER.password });

    const listed = await (await first.get("/api/sessions")).json();
    expect(listed.sessions).toHaveLength(3);
    expect(listed.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);

    const stolen = third.cookie("cybros_session")!;
    expect((await third.delete("/api/session")).status).toBe(204);
    const replay = server.client();
    replay.setCookie("cybros_session", stolen);
    expect((await replay.get("/api/sessions")).status).toBe(401);

    expect((await first.delete("/api/sessions")).status).toBe(200);
    expect((await first.get("/api/sessions")).status).toBe(401);
    expect((await second.get("/api/sessions")).status).toBe(401);
  });

  it("changes the password only with the current one, and signs out other devices", async () => {
    const client = await signedIn();
    const other = server.client();
    await other.post("/api/session", { email: OWNER.email, password: OWNER.password });

    const bad = await client.put("/api/profile/password", {
      currentPassword: "not it",
      newPassword: "a new password",
      newPasswordConfirmation: "a new password",
    });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.fields).toEqual({ currentPassword: "is incorrect" });

    const ok = await client.put("/api/profile/password", {
      currentPassword: OWNER.password,
      newPassword: "a new password",
      newPasswordConfirmation: "a new password",
    });
    expect(ok.status).toBe(200);
    expect((await client.get("/api/sessions")).status).toBe(200);
    expect((await other.get("/api/sessions")).status).toBe(401);
    const login = await server.client().post("/api/session", { email: OWNER.email, password: "a new password" });
    expect(login.status).toBe(201);
  });

  it("limits wrong current-password guesses on a password change", async () => {
    const client = await signedIn();
    const guess = (currentPassword: string) =>
      client.put("/api/profile/password", {
        currentPassword,
        newPassword: "a new password",
        newPasswordConfirmation: "a new password",
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await guess(`guess ${i}`)).status);
    expect(statuses).toEqual([422, 422, 422, 422, 422, 429]);
    expect((await guess(OWNER.password)).status).toBe(429);
  });
});

describe("session expiry", () => {
  const age = (column: "last_seen_at" | "created_at", days: number) =>
    server.services.db.execute(sql.raw(`UPDATE sessions SET ${column} = now() - interval '${days} days'`));

  it("refuses and deletes a session unused past the idle limit (14 days by default)", async () => {
    const client = await signedIn();
    await age("last_seen_at", 13);
    expect((await client.get("/api/sessions")).status).toBe(200);
    await age("last_seen_at", 15);
    expect((await client.get("/api/sessions")).status).toBe(401);
    expect(await server.services.db.select().from(sessions)).toEqual([]);
  });

  it("refuses a session past the absolute limit however recently used (90 days by default)", async () => {
    const client = await signedIn();
    await age("created_at", 91);
    expect((await client.get("/api/sessions")).status).toBe(401);
  });

  it("takes its limits from the environment, and sweeps expired sessions at sign-in", async () => {
    ({ server } = await startSignedIn({ env: { CYBROS_SESSION_IDLE_DAYS: "1", CYBROS_SESSION_MAX_DAYS: "3" } }));
    await age("last_seen_at", 2);
    const login = await server.client().post("/api/session", OWNER);
    expect(login.status).toBe(201);
    expect(login.headers.get("set-cookie")).toMatch(/Max-Age=259200/);
    expect(await server.services.db.select().from(sessions)).toHaveLength(1);
  });
});

describe("CSRF", () => {
  it("refuses cookie-authenticated writes from another origin or without proof", async () => {
    const client = await signedIn();
    client.origin = "https://evil.example";
    expect((await client.delete("/api/sessions")).status).toBe(403);
    client.origin = "";
    const noHeaders = await client.delete("/api/sessions");
    expect(noHeaders.status).toBe(403);
    expect((await noHeaders.json()).error.code).toBe("csrf_rejected");
    const crossSite = await client.delete("/api/sessions", { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);

    const { csrfToken } = await (await client.get("/api/session")).json();
    const withToken = await client.delete("/api/sessions", { "x-csrf-token": csrfToken });
    expect(withToken.status).toBe(200);
  });

  it("accepts same-origin requests", async () => {
    const client = await signedIn();
    client.origin = "";
    expect((await client.delete("/api/session", { "sec-fetch-site": "same-origin" })).status).toBe(204);
  });
});

describe("API guard", () => {
  it("requires a session on every API route but the public ones", async () => {
    await signedIn();
    const anonymous = server.client();
    expect((await anonymous.get("/api/sessions")).status).toBe(401);
    expect((await anonymous.get("/api/anything-else")).status).toBe(401);
    expect((await anonymous.get("/api/session")).status).toBe(200);
    expect((await anonymous.get("/up")).status).toBe(200);
  });
});
