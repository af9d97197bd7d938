import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventOf } from "@cybros/protocol";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { directives, runSteps } from "../db/schema.js";
import { agentsAllowing, defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { type LocalNexus, withLocalNexus } from "../testing/local-nexus.js";

/** Tool calls that run as directives, through a real `cybros-nexus` enrolled as the account's local territory. */
let server: TestServer;
let client: TestClient;
let nexus: LocalNexus;
let agentsDir: string;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-project-"));

beforeAll(async () => {
  agentsDir = agentsAllowing(["workspace_set"]);
  ({ server, client } = await startSignedIn({ env: { CYBROS_AGENTS_DIR: agentsDir } }));
  nexus = await withLocalNexus(server, { name: "Workbench" });
});

afterAll(async () => {
  await nexus?.stop();
  await server?.close();
  for (const dir of [project, agentsDir]) fs.rmSync(dir, { recursive: true, force: true });
});

async function conversation() {
  const agentId = await defaultAssistantId(server.services.db);
  const created = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
  return { id: created.id as string, events: await EventStreamReader.open(client, created.id, 0) };
}

async function callTool(conversationId: string, events: EventStreamReader, name: string, args: unknown) {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, {
    content: `/mock tool_calls\n${name} ${JSON.stringify(args)}`,
  });
  expect(response.status).toBe(202);
  const runId = (await response.json()).run.id as string;
  const result = (await events.waitForKind("tool_result", (e) => e.run_id === runId, 30_000)) as EventOf<"tool_result">;
  await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId, 30_000);
  return { runId, part: result.payload.part };
}

it("sets a workspace through the territory, waiting on the directive without holding the run", async () => {
  const { id, events } = await conversation();
  const { runId, part } = await callTool(id, events, "workspace_set", { path: project });
  const real = fs.realpathSync(project);
  expect(part.state).toBe("completed");
  expect(part.summary).toBe(`Workspace: ${real} on Workbench`);
  expect(part.directive).toMatchObject({ territory: "Workbench" });

  // The wait is a step of its own, resolved by the directive's end; the directive names that step.
  const steps = await server.services.db
    .select()
    .from(runSteps)
    .where(eq(runSteps.runId, runId))
    .orderBy(asc(runSteps.ordinal));
  const wait = steps.find((step) => step.kind === "await_directive")!;
  expect(wait).toMatchObject({ state: "succeeded" });
  const [directive] = await server.services.db.select().from(directives).where(eq(directives.runStepId, wait.id));
  expect(directive).toMatchObject({ state: "succeeded", exitCode: 0, id: part.directive!.id });

  // Later turns (and the header) know the workspace.
  const detail = await (await client.get(`/api/conversations/${id}`)).json();
  expect(detail.workspace).toEqual({ territory: "Workbench", path: real, online: true });
  const output = await (await client.get(`/api/directives/${directive!.id}/output`)).json();
  expect(output).toMatchObject({ state: "succeeded", stdout: `${real}\n` });
  events.close();
});

it("tells the model when the folder does not exist, and keeps the workspace it had", async () => {
  const { id, events } = await conversation();
  const missing = path.join(project, "no-such-folder");
  const { part } = await callTool(id, events, "workspace_set", { path: missing });
  expect(part.state).toBe("error");
  expect(part.error).toContain(`${missing} is not a folder on Workbench`);
  const detail = await (await client.get(`/api/conversations/${id}`)).json();
  expect(detail.workspace).toBeNull();
  events.close();
});

it("refuses another account's or an unknown directive's output", async () => {
  expect((await client.get(`/api/directives/${crypto.randomUUID()}/output`)).status).toBe(404);
  expect((await client.get("/api/directives/not-an-id/output")).status).toBe(404);
  expect((await client.post(`/api/approvals/${crypto.randomUUID()}`, { approved: true })).status).toBe(404);
});
