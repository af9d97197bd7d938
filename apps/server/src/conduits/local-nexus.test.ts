import fs from "node:fs";
import path from "node:path";
import { territoryList } from "@cybros/protocol";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { loadConfig } from "../config.js";
import { directiveLogChunks } from "../db/schema.js";
import { startSignedIn, startTestServer, type TestClient, type TestServer } from "../testing/harness.js";
import { createDirective, createFacility, type DirectiveRow } from "./index.js";
import { claimLocalTerritory, localNexusDirs, localTerritory, localTerritoryName } from "./local-nexus.js";

describe("the embedded local Nexus", () => {
  let server: TestServer;
  let client: TestClient;
  let closed = false;
  let accountId: string;
  const waiters = new Map<string, (directive: DirectiveRow) => void>();
  const finished = (id: string) => new Promise<DirectiveRow>((resolve) => waiters.set(id, resolve));

  beforeAll(async () => {
    ({ server, client } = await startSignedIn({ localNexus: true }));
    server.services.conduits.onDirectiveFinished((directive) => waiters.get(directive.id)?.(directive));
    accountId = (await defaultAccount(server.services.db)).id;
  });
  afterAll(async () => {
    if (!closed) await server?.close();
  });

  const outputOf = async (directiveId: string) => {
    const chunks = await server.services.db
      .select()
      .from(directiveLogChunks)
      .where(eq(directiveLogChunks.directiveId, directiveId))
      .orderBy(asc(directiveLogChunks.seq));
    return chunks.map((chunk) => Buffer.from(chunk.bytes).toString()).join("");
  };

  it("serves the account's local territory, online, with no enrollment", async () => {
    const territory = await localTerritory(server.services, accountId);
    expect(territory).toMatchObject({ local: true, name: localTerritoryName(), platform: expect.any(String) });
    await vi.waitFor(async () => {
      expect(await localTerritory(server.services, accountId)).toMatchObject({ status: "online" });
    });
    const listed = territoryList.parse(await (await client.get("/api/territories")).json());
    expect(listed.territories).toEqual([expect.objectContaining({ id: territory!.id, local: true, status: "online" })]);
    expect(listed.territories[0]!.drivers).toContain("host");
  });

  it("runs a directive created in-process and stores its output; its workspace is in the data folder", async () => {
    const territory = (await localTerritory(server.services, accountId))!;
    const facility = await createFacility(server.services.db, { territoryId: territory.id, kind: "empty" });
    const directive = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { shell: "echo hi; pwd" } },
    });
    expect(await finished(directive.id)).toMatchObject({ state: "succeeded", exitCode: 0 });
    const workspace = path.join(localNexusDirs(server.config).workspacesDir, facility.id);
    expect(await outputOf(directive.id)).toBe(`hi\n${fs.realpathSync(workspace)}\n`);
  });

  it("cannot be revoked from the API", async () => {
    const territory = (await localTerritory(server.services, accountId))!;
    const refused = await client.post(`/api/territories/${territory.id}/revocation`);
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.code).toBe("territory_local");
    expect(await localTerritory(server.services, accountId)).toMatchObject({ status: "online" });
  });

  it("cancels a running command when the server closes, reports it, and leaves no process behind", async () => {
    const territory = (await localTerritory(server.services, accountId))!;
    const facility = await createFacility(server.services.db, { territoryId: territory.id, kind: "empty" });
    const directive = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { shell: "echo $$; exec sleep 30" } },
    });
    const ended = finished(directive.id);
    let pid = 0;
    await vi.waitFor(async () => {
      pid = Number((await outputOf(directive.id)).trim());
      expect(pid).toBeGreaterThan(0);
    });
    closed = true;
    const closing = server.close();
    expect(await ended).toMatchObject({ state: "canceled", exitCode: 143 });
    await closing;
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("CYBROS_LOCAL_NEXUS", () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  it("is on for `npm start`, off when set so, and off in tests unless asked", async () => {
    expect(loadConfig({}).localNexus).toBe(true);
    expect(loadConfig({ CYBROS_LOCAL_NEXUS: "off" }).localNexus).toBe(false);
    expect(() => loadConfig({ CYBROS_LOCAL_NEXUS: "no" })).toThrow(/CYBROS_LOCAL_NEXUS/);
  });

  it("off starts no Nexus and creates no territory", async () => {
    server = await startTestServer();
    await server.url();
    expect(server.config.localNexus).toBe(false);
    expect(server.localNexus).toBeUndefined();
    const account = await defaultAccount(server.services.db);
    expect(await localTerritory(server.services, account.id)).toBeUndefined();
  });

  it("gives the local territory a new token at each claim; the old one stops working", async () => {
    const account = await defaultAccount(server.services.db);
    const first = await claimLocalTerritory(server.services, account.id);
    const second = await claimLocalTerritory(server.services, account.id);
    expect(second.territory.id).toBe(first.territory.id);
    const heartbeat = (token: string) =>
      server
        .client()
        .post(
          "/conduits/v1/territories/heartbeat",
          { capacity: 1, running: 0, drivers: ["host"], nexus_version: "test" },
          { authorization: `Bearer ${token}` },
        );
    expect((await heartbeat(first.token)).status).toBe(401);
    expect((await heartbeat(second.token)).status).toBe(200);
  });
});
