import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { conversationRuns } from "../db/schema.js";
import { defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { HEARTBEAT_INTERVAL_MS } from "./store.js";

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  ({ server, client } = await startSignedIn());
  await server.url(); // the built-in mock provider is reached over HTTP
});

afterAll(async () => {
  await server?.close();
});

it("a run whose lease another process took stops here and writes nothing more", async () => {
  const agentId = await defaultAssistantId(server.services.db);
  const conversation = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
  const events = await EventStreamReader.open(client, conversation.id, 0);
  // A reply that streams for ~20 s, well past the next heartbeat.
  const sent = await client.post(`/api/conversations/${conversation.id}/messages`, {
    content: "/mock long kb=40 chunk_size=40 delay=20",
  });
  const runId = (await sent.json()).run.id as string;
  await events.waitFor((e) => e.kind === "stream_chunk" && e.run_id === runId);
  expect(server.services.runs.isRunningHere(runId)).toBe(true);

  // Another process claims the run, as after this one stalled past its lease.
  await server.services.db
    .update(conversationRuns)
    .set({ workerId: "another-process" })
    .where(eq(conversationRuns.id, runId));
  await expect
    .poll(() => server.services.runs.isRunningHere(runId), { timeout: HEARTBEAT_INTERVAL_MS * 3, interval: 100 })
    .toBe(false);

  // Nothing ended it here: the run is still running, held by the other process, which will continue it.
  const [run] = await server.services.db.select().from(conversationRuns).where(eq(conversationRuns.id, runId));
  expect([run!.state, run!.workerId]).toEqual(["running", "another-process"]);
  expect(
    events.events.some(
      (e) =>
        e.run_id === runId &&
        e.kind.startsWith("run_") &&
        e.kind !== "run_started" &&
        e.kind !== "run_queued" &&
        e.kind !== "run_heartbeat",
    ),
  ).toBe(false);
  events.close();
}, 30_000);
