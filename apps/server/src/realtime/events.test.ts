import { type EventKind, eventEnvelope, type RunSummary } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { type EventDraft, ephemeralEnvelope } from "./envelope.js";

let server: TestServer;
let client: TestClient;
const readers: EventStreamReader[] = [];

/**
 * Kinds this test's plain conversation never causes: the heartbeat (a 5 s timer), step events (declared, not yet
 * written), what waits, directives and hooks write — runs/steps.test.ts, runs/directives.test.ts and
 * runs/hooks.test.ts read those through the same parser — and the withdrawal of a reply whose send was queued
 * after all (runs/started-send.test.ts).
 */
const NOT_WRITTEN_HERE: ReadonlySet<EventKind> = new Set([
  "run_heartbeat",
  "run_waiting",
  "step_started",
  "step_finished",
  "directive_output",
  "directive_state",
  "approval_requested",
  "approval_resolved",
  "hook_warning",
  "stream_withdrawn",
]);

async function newConversation(): Promise<string> {
  const { agents } = await (await client.get("/api/agents")).json();
  const assistant = agents.find((a: { profileSource: string }) => a.profileSource === "bundled:default-assistant");
  const created = await client.post("/api/conversations", { agentProgramId: assistant.id });
  expect(created.status).toBe(201);
  return (await created.json()).id;
}

async function send(conversationId: string, content: string): Promise<{ run: RunSummary }> {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
  return response.json();
}

describe("conversation events through the server", () => {
  beforeEach(async () => {
    ({ server, client } = await startSignedIn());
    await server.url();
  });
  afterEach(async () => {
    for (const reader of readers.splice(0)) reader.close();
    await server.close();
  });

  it("writes every kind through the real paths, each matching its kind's schema", async () => {
    const id = await newConversation();
    const live = await EventStreamReader.open(client, id, 0);
    readers.push(live);
    const logged = new Set<string>();
    // The log as stored, each row parsed with the union; parsing drops undeclared keys, so equality means none.
    const readLog = async () => {
      for (const event of await server.services.realtime.eventsAfter(server.services.db, id, 0, 10_000)) {
        expect(eventEnvelope.parse(event)).toStrictEqual(event);
        logged.add(event.kind);
      }
    };

    // A tool loop that succeeds; the first message also titles the conversation.
    await send(id, '/mock tool_calls\nmemory_store {"content":"The user likes tea"}');
    await live.runsEnded(1);
    expect((await client.patch(`/api/conversations/${id}`, { title: "Typed events" })).status).toBe(200);

    // Persisted chunks exist only while a reply streams: read the log then, and cancel.
    const { run: long } = await send(id, "/mock long kb=20 delay=20 chunk_size=50");
    await live.waitForKind("stream_chunk", (e) => e.payload.offset > 500);
    await server.services.streams.flush();
    await readLog();
    expect((await client.post(`/api/runs/${long.id}/cancellation`)).status).toBe(200);
    await live.runsEnded(2);

    // A provider error fails the run; its retry is queued with the node it replaces.
    const { run: failing } = await send(id, "/mock error status=400 times=1");
    await live.runsEnded(3);
    expect((await client.post(`/api/runs/${failing.id}/retry`)).status).toBe(202);
    await live.runsEnded(4);

    await readLog();
    expect(live.invalid).toBeUndefined();
    const seen = new Set([...logged, ...live.events.map((e) => e.kind)]);
    const expected = eventEnvelope.options
      .map((option) => option.shape.kind.value)
      .filter((k) => !NOT_WRITTEN_HERE.has(k));
    expect([...seen].sort()).toEqual(expected.sort());
    expect(live.events.some((e) => e.kind === "stream_chunk" && e.seq === null)).toBe(true);
    expect(live.events.find((e) => e.kind === "run_queued" && e.payload.supersededNodeIds)).toBeDefined();
  });
});

describe("event drafts", () => {
  it("types each draft's payload by its kind, and the schema refuses what the type refuses", () => {
    const run: RunSummary = {
      id: "r",
      conversationId: "c",
      turnId: "t",
      activeNodeId: null,
      state: "failed",
      error: null,
      retryOfId: null,
      queuedAt: "2026-01-01T00:00:00.000Z",
      startedAt: null,
      finishedAt: null,
      heartbeatAt: null,
    };
    const wrong: EventDraft[] = [
      // @ts-expect-error run_failed carries the run's error
      { conversationId: "c", kind: "run_failed", payload: { run } },
      // @ts-expect-error a stream chunk's body is its text
      { conversationId: "c", kind: "stream_chunk", payload: { offset: 0 } },
      // @ts-expect-error a title is text
      { conversationId: "c", kind: "conversation_updated", payload: { title: 7 } },
      // @ts-expect-error no such kind
      { conversationId: "c", kind: "persona_switched", payload: {} },
    ];
    for (const draft of wrong) expect(eventEnvelope.safeParse(ephemeralEnvelope(draft)).success).toBe(false);
    const right: EventDraft = {
      conversationId: "c",
      kind: "run_failed",
      payload: { run, error: { code: "timeout", message: "slow" } },
    };
    expect(eventEnvelope.parse(ephemeralEnvelope(right))).toMatchObject({ kind: "run_failed", payload: { run } });
  });
});
