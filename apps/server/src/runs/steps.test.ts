import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, expect, it } from "vitest";
import { agentMemoryEntries, conversationRuns, runSteps } from "../db/schema.js";
import { agentsRequiringApproval, defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { resolveWait, resumeAbandonedRuns } from "./index.js";
import { childRunKey } from "./steps/await-run.js";

let server: TestServer;
let client: TestClient;
let agentsDir: string;
const readers: EventStreamReader[] = [];
const sites: http.Server[] = [];

/** The bundled agent, a private copy whose memory_store calls wait for approval. */
beforeEach(async () => {
  agentsDir = agentsRequiringApproval(["memory_store"]);
  ({ server, client } = await startSignedIn({ env: { CYBROS_AGENTS_DIR: agentsDir } }));
  await server.url();
});

afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  for (const site of sites.splice(0)) site.closeAllConnections();
  await server.close();
  fs.rmSync(agentsDir, { recursive: true, force: true });
});

async function conversationWithEvents() {
  const agentId = await defaultAssistantId(server.services.db);
  const conversation = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
  const events = await EventStreamReader.open(client, conversation.id, 0);
  readers.push(events);
  return { id: conversation.id as string, events };
}

async function send(conversationId: string, content: string): Promise<string> {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
  return (await response.json()).run.id;
}

const stepsOf = (runId: string) =>
  server.services.db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.ordinal));

/** Stop through the API, as the Stop button does; answers once the run's end is out. */
async function cancel(runId: string, events: EventStreamReader) {
  expect((await client.post(`/api/runs/${runId}/cancellation`)).status).toBe(200);
  await events.waitFor((e) => e.kind === "run_canceled" && e.run_id === runId);
}

const storeCall = '/mock tool_calls\nmemory_store {"content":"The user\'s cat is called Miso"}';

it("a tool call that needs approval waits holding nothing, and continues when approved", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  const waiting = await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  const step = waiting.payload.step as { kind: string; waitKey: string };
  expect(step.kind).toBe("await_approval");

  // Waiting: the run is still the conversation's running run, but no process holds it and nothing runs it here.
  const [run] = await server.services.db.select().from(conversationRuns).where(eq(conversationRuns.id, runId));
  expect([run!.state, run!.workerId, run!.leaseExpiresAt]).toEqual(["running", null, null]);
  expect(server.services.runs.isRunningHere(runId)).toBe(false);
  expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(0);

  const invalid = await client.post(`/api/runs/${runId}/approval`, { approved: "yes" });
  expect(invalid.status).toBe(422);
  const approved = await client.post(`/api/runs/${runId}/approval`, { approved: true });
  expect(approved.status).toBe(200);
  await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId);
  expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(1);
  expect((await stepsOf(runId)).map((s) => [s.kind, s.state, s.attempt])).toEqual([
    ["model_call", "succeeded", 1],
    ["tool_call", "succeeded", 1],
    ["await_approval", "succeeded", 1],
    ["model_call", "succeeded", 1],
  ]);
  const results = events.events.filter((e) => e.kind === "tool_result");
  expect(results).toHaveLength(1);
  // A second answer to the same wait finds nothing to resolve.
  expect(await resolveWait(server.services, step.waitKey, { approved: false })).toEqual([]);
  const again = await client.post(`/api/runs/${runId}/approval`, { approved: false });
  expect([again.status, (await again.json()).error.code]).toEqual([409, "no_approval_pending"]);
});

it("a rejected call is never run, and the model is told why", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  const waiting = await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  await resolveWait(server.services, (waiting.payload.step as { waitKey: string }).waitKey, {
    approved: false,
    reason: "not now",
  });
  await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId);
  expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(0);
  const prompt = server.services.mockLlm!.requests().at(-1)!.messages;
  expect(JSON.stringify(prompt.at(-1))).toContain("The person did not approve this call: not now");
});

it("cancel while waiting for approval ends the run and withdraws the request", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  const waiting = await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  const calls = server.services.mockLlm!.requests().length;
  await cancel(runId, events);
  expect((await stepsOf(runId)).map((s) => [s.kind, s.state])).toEqual([
    ["model_call", "succeeded"],
    ["tool_call", "canceled"],
    ["await_approval", "canceled"],
  ]);
  // An answer arriving after the cancel starts nothing.
  expect(
    await resolveWait(server.services, (waiting.payload.step as { waitKey: string }).waitKey, { approved: true }),
  ).toEqual([]);
  expect(server.services.mockLlm!.requests()).toHaveLength(calls);
  const messages = (await (await client.get(`/api/conversations/${id}/messages`)).json()).messages;
  const tool = messages
    .flatMap((m: { parts: { type: string; state: string }[] }) => m.parts)
    .find((p: { type: string }) => p.type === "tool_call");
  // Cut short by the Stop, which a card says as such (not "failed").
  expect(tool).toMatchObject({ state: "error", stopped: true });
  expect(tool.approval).toBeUndefined();
});

it("cancel while an in-process tool runs stops it and starts no further step", async () => {
  // A page that never answers: web_fetch runs until the cancel aborts it.
  let fetched!: () => void;
  const reached = new Promise<void>((resolve) => (fetched = resolve));
  const site = http.createServer(() => fetched());
  sites.push(site);
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(site.address() as AddressInfo).port}`;
  expect((await client.patch("/api/account/settings", { webFetchAllowlist: ["127.0.0.1"] })).status).toBe(200);

  const { id, events } = await conversationWithEvents();
  const runId = await send(id, `/mock tool_calls\nweb_fetch {"url":"http://${host}/slow"}`);
  await reached;
  const calls = server.services.mockLlm!.requests().length;
  await cancel(runId, events);
  expect((await stepsOf(runId)).map((s) => [s.kind, s.state])).toEqual([
    ["model_call", "succeeded"],
    ["tool_call", "canceled"],
  ]);
  expect(server.services.mockLlm!.requests()).toHaveLength(calls);
  site.close();
});

/**
 * A stand-in for a tool whose work is a child run (subagents come later): the approval wait is turned into a wait
 * on `childRunId`, which resolveWait ends as the child's end will.
 */
async function waitOnChildRun(runId: string, childRunId: string) {
  await server.services.db
    .update(runSteps)
    .set({ kind: "await_run", waitKey: childRunKey(childRunId) })
    .where(and(eq(runSteps.runId, runId), eq(runSteps.kind, "await_approval")));
}

it("a tool call waiting on a child run continues with what the child answered", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  const child = await conversationWithEvents();
  const childRunId = await send(child.id, "/mock hang");
  await waitOnChildRun(runId, childRunId);

  expect(await resolveWait(server.services, childRunKey(childRunId), { output: "The child answered 42." })).toEqual([
    runId,
  ]);
  await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId);
  const prompt = server.services.mockLlm!.requests().at(-1)!.messages;
  expect(JSON.stringify(prompt.at(-1))).toContain("The child answered 42.");
  // The tool itself never ran here: the child did its work.
  expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(0);
  expect((await client.post(`/api/runs/${childRunId}/cancellation`)).status).toBe(200);
});

it("cancel while waiting on a child run cancels the child too", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  const child = await conversationWithEvents();
  const childRunId = await send(child.id, "/mock hang");
  await child.events.waitFor((e) => e.kind === "run_started" && e.run_id === childRunId);
  await waitOnChildRun(runId, childRunId);

  await cancel(runId, events);
  await child.events.waitFor((e) => e.kind === "run_canceled" && e.run_id === childRunId);
  expect((await stepsOf(runId)).map((s) => [s.kind, s.state])).toEqual([
    ["model_call", "succeeded"],
    ["tool_call", "canceled"],
    ["await_run", "canceled"],
  ]);
});

it("a tool that is not idempotent, found running by a resumed run, is not run again: the run stops for Retry", async () => {
  const { id, events } = await conversationWithEvents();
  const runId = await send(id, storeCall);
  await events.waitForKind("run_waiting", (e) => e.run_id === runId);
  // The rows as a process leaves them when it dies inside memory_store (approved, running, lease lapsed).
  await server.services.db
    .update(runSteps)
    .set({ state: "succeeded", output: { approved: true } })
    .where(and(eq(runSteps.runId, runId), eq(runSteps.kind, "await_approval")));
  await server.services.db
    .update(runSteps)
    .set({ state: "running" })
    .where(and(eq(runSteps.runId, runId), eq(runSteps.kind, "tool_call")));
  expect(await resumeAbandonedRuns(server.services)).toBe(1);

  const failed = await events.waitForKind("run_failed", (e) => e.run_id === runId);
  expect((failed.payload.error as { code: string; message: string }).message).toContain("memory_store");
  expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(0);
  expect((await stepsOf(runId)).map((s) => [s.kind, s.state])).toEqual([
    ["model_call", "succeeded"],
    ["tool_call", "failed"],
    ["await_approval", "succeeded"],
  ]);
  const retry = await client.post(`/api/runs/${runId}/retry`);
  expect(retry.status).toBe(202);
});
