import { policiesView } from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { policies, territories } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { createFacility } from "./directives.js";
import { createEnrollmentToken, enroll } from "./enrollment.js";
import { DEFAULT_RULES, decideDirective } from "./policy.js";

describe("policies API and the levels a directive is judged by", () => {
  let server: TestServer;
  let client: TestClient;
  let agentId: string;

  beforeAll(async () => {
    ({ server, client } = await startSignedIn());
    const created = await client.post("/api/agents", { name: "Builder", blank: true });
    expect(created.status).toBe(201);
    agentId = (await created.json()).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  const db = () => server.services.db;
  const view = async () => {
    const response = await client.get("/api/policies");
    expect(response.status).toBe(200);
    return policiesView.parse(await response.json());
  };

  it("answers the defaults before anything is set, and only to a session", async () => {
    expect(await view()).toEqual({ account: {}, agents: [], defaults: DEFAULT_RULES });
    expect((await server.client().get("/api/policies")).status).toBe(401);
    expect((await server.client().put("/api/policies/account", { dangerous: "allowed" })).status).toBe(401);
  });

  it("replaces the account's and an agent's rules, and clears a level with {}", async () => {
    const account = { dangerous: "forbidden", commands: { deny: ["git push --force *"] } };
    const saved = await client.put("/api/policies/account", account);
    expect(saved.status).toBe(200);
    expect(policiesView.parse(await saved.json()).account).toEqual(account);

    const agentRules = { network: "allowlist", network_allowlist: ["GitHub.com:443", "*.npmjs.org"] };
    expect((await client.put(`/api/policies/agents/${agentId}`, agentRules)).status).toBe(200);
    expect((await view()).agents).toEqual([
      { agentId, rules: { network: "allowlist", network_allowlist: ["github.com:443", "*.npmjs.org"] } },
    ]);

    expect((await client.put("/api/policies/account", { outside_workspace: "allowed" })).status).toBe(200);
    expect((await view()).account).toEqual({ outside_workspace: "allowed" });

    expect((await client.put(`/api/policies/agents/${agentId}`, { commands: { allow: [] } })).status).toBe(200);
    expect((await view()).agents).toEqual([]);
    const rows = await db().select().from(policies).where(eq(policies.agentProgramId, agentId));
    expect(rows).toEqual([]);
    expect((await client.put("/api/policies/account", {})).status).toBe(200);
    expect((await view()).account).toEqual({});
  });

  it("refuses bad rules with a 422 naming each field", async () => {
    const response = await client.put("/api/policies/account", {
      dangerous: "maybe",
      network: "some",
      network_allowlist: ["not a host", "http://example.com"],
      commands: { deny: ["  "], allow: "git *" },
      sandboxx: "on",
    });
    expect(response.status).toBe(422);
    const { error } = await response.json();
    expect(Object.keys(error.fields).sort()).toEqual(
      [
        "_",
        "commands.allow",
        "commands.deny.0",
        "dangerous",
        "network",
        "network_allowlist.0",
        "network_allowlist.1",
      ].sort(),
    );
    expect(error.fields["network_allowlist.0"]).toMatch(/host name/);
    expect((await client.put("/api/policies/account", "[]")).status).toBe(422);
    expect((await client.request("PUT", "/api/policies/account", "{}", { "content-type": "text/plain" })).status).toBe(
      415,
    );
    expect((await view()).account).toEqual({});
  });

  it("answers 404 for an agent that is not there, malformed or deleted", async () => {
    expect((await client.put(`/api/policies/agents/${uuidv7()}`, { dangerous: "allowed" })).status).toBe(404);
    expect((await client.put("/api/policies/agents/not-a-uuid", { dangerous: "allowed" })).status).toBe(404);

    const created = await (await client.post("/api/agents", { name: "Short-lived", blank: true })).json();
    expect((await client.put(`/api/policies/agents/${created.id}`, { dangerous: "allowed" })).status).toBe(200);
    expect((await view()).agents.map((a) => a.agentId)).toContain(created.id);
    expect((await client.delete(`/api/agents/${created.id}`)).status).toBe(204);
    expect((await view()).agents.map((a) => a.agentId)).not.toContain(created.id);
  });

  it("decides a directive from the account's, the agent's and the facility's rows and its territory", async () => {
    const account = await defaultAccount(db());
    const { token } = await createEnrollmentToken(db(), account.id);
    const enrolled = await enroll(db(), {
      enroll_token: token,
      name: "box",
      platform: "linux-x64",
      labels: {},
      capacity: 1,
    });
    const territoryId = enrolled.territory_id;
    // A path facility's root is only a string policy reasons about here: nothing runs.
    const facility = await createFacility(db(), { territoryId, kind: "path", root: "/work/project" });
    const decideFor = (shell: string, agentProgramId: string | null = null) =>
      decideDirective(server.services, {
        accountId: account.id,
        agentProgramId,
        facilityId: facility.id,
        request: { command: { shell } },
      });

    // A remote territory without bwrap: host, and the remote defaults.
    expect(await decideFor("sudo ls")).toMatchObject({ decision: "needs_approval", driver: "host" });
    await db()
      .update(territories)
      .set({ drivers: ["host", "bwrap"] })
      .where(eq(territories.id, territoryId));
    expect(await decideFor("ls")).toMatchObject({ decision: "allowed", driver: "bwrap" });
    await db().update(territories).set({ local: true }).where(eq(territories.id, territoryId));
    expect(await decideFor("ls")).toMatchObject({ decision: "allowed", driver: "host" });

    await client.put("/api/policies/account", { dangerous: "allowed" });
    await client.put(`/api/policies/agents/${agentId}`, { dangerous: "forbidden" });
    expect((await decideFor("sudo ls")).decision).toBe("allowed");
    expect(await decideFor("sudo ls", agentId)).toMatchObject({
      decision: "forbidden",
      reasons: ["dangerous pattern: sudo"],
    });

    await db()
      .insert(policies)
      .values({
        id: uuidv7(),
        accountId: account.id,
        facilityId: facility.id,
        rules: { commands: { deny: ["make"] } },
      });
    expect(await decideFor("make all")).toMatchObject({
      decision: "forbidden",
      reasons: ["matches the deny rule `make`"],
    });
    const elsewhere = await createFacility(db(), { territoryId, kind: "empty" });
    const other = await decideDirective(server.services, {
      accountId: account.id,
      facilityId: elsewhere.id,
      request: { command: { shell: "make all" } },
    });
    expect(other.decision).toBe("allowed");

    // Rules stored in a shape that no longer reads ask before every command.
    await db()
      .update(policies)
      .set({ rules: { dangerous: "sometimes" } })
      .where(eq(policies.facilityId, facility.id));
    expect(await decideFor("make all")).toMatchObject({
      decision: "needs_approval",
      reasons: ["not covered by an allow rule (make all)"],
    });

    await expect(
      decideDirective(server.services, {
        accountId: uuidv7(),
        facilityId: facility.id,
        request: { command: { shell: "ls" } },
      }),
    ).rejects.toMatchObject({ status: 404 });
    await client.put("/api/policies/account", {});
    await client.put(`/api/policies/agents/${agentId}`, {});
  });
});
