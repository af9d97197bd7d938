import fs from "node:fs";
import path from "node:path";
import { eventEnvelope } from "@cybros/protocol";
import { asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PlannedSend } from "../conversations/index.js";
import type { Database } from "../db/index.js";
import { conversationRuns, conversations, llmCalls, nodes, runSteps, turns } from "../db/schema.js";
import type { Writes } from "../db/statements.js";
import { uuidv7 } from "../ids.js";
import type { MockLlm, MockRequestRecord } from "../mock-llm/index.js";
import { contentText } from "../mock-llm/replies.js";
import { agentsRequiringApproval, defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import {
  describeOnPostgres,
  OWNER,
  startSignedIn,
  startTestServer,
  type TestClient,
  type TestServer,
  usingPostgres,
} from "../testing/harness.js";
import { LEASE_MS } from "./store.js";

/**
 * A send's run starts before the send is written (runs/unwritten-send.ts, decisions/0041): the provider request
 * leaves first, the send's rows go in the run's first batch, and when that batch's startsNow check fails the send
 * is written queued and runs from the queue. Real database, mock LLM, the server's own HTTP API.
 */

let server: TestServer;
let client: TestClient;
let agentsDir: string;
const readers: EventStreamReader[] = [];

/** The bundled agents, a private copy whose memory_store calls wait for approval (and whose files a test may break). */
beforeEach(async () => {
  agentsDir = agentsRequiringApproval(["memory_store"]);
  ({ server, client } = await startSignedIn({ env: { CYBROS_AGENTS_DIR: agentsDir } }));
  await server.url();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const reader of readers.splice(0)) reader.close();
  await server.close();
  fs.rmSync(agentsDir, { recursive: true, force: true });
});

async function newConversation(on: { server: TestServer; client: TestClient } = { server, client }) {
  const agentId = await defaultAssistantId(on.server.services.db);
  const created = await on.client.post("/api/conversations", { agentProgramId: agentId });
  expect(created.status).toBe(201);
  const id = (await created.json()).id as string;
  const events = await EventStreamReader.open(on.client, id, 0);
  readers.push(events);
  return { id, events };
}

// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape
async function post(id: string, body: Record<string, unknown>, via = client): Promise<any> {
  const response = await via.post(`/api/conversations/${id}/messages`, body);
  expect(response.status).toBe(202);
  return response.json();
}

async function transcript(id: string, via = client) {
  const page = await (await via.get(`/api/conversations/${id}/messages?limit=200`)).json();
  return page.messages as { id: string; role: string; text: string; state: string; turnId: string }[];
}

/** The conversation's persisted event log, oldest first. */
async function eventLog(id: string) {
  const page = await (await client.get(`/api/conversations/${id}/events/poll?cursor=0`)).json();
  return eventEnvelope.array().parse(page.events);
}

const runsOf = (id: string, on = server) =>
  on.services.db
    .select()
    .from(conversationRuns)
    .where(eq(conversationRuns.conversationId, id))
    .orderBy(asc(conversationRuns.turnSeq));

const runRow = async (runId: string, on = server) =>
  (await on.services.db.select().from(conversationRuns).where(eq(conversationRuns.id, runId)))[0]!;

const stepsOf = (runId: string) =>
  server.services.db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.ordinal));

const callsOf = (runId: string) => server.services.db.select().from(llmCalls).where(eq(llmCalls.runId, runId));

const lastUserText = (request: MockRequestRecord) =>
  contentText(request.messages.findLast((m) => m.role === "user")?.content);

/** The provider requests (of every given mock) answering the user message `text`, oldest first. */
const requestsFor = (text: string, mocks: MockLlm[] = [server.services.mockLlm!]) =>
  mocks
    .flatMap((mock) => mock.requests())
    .filter((r) => lastUserText(r) === text)
    .sort((a, b) => a.receivedAt - b.receivedAt);

/** A prompt as role and text pairs, the system prompt left out. */
const dialogue = (request: MockRequestRecord) =>
  request.messages.filter((m) => m.role !== "system").map((m) => [m.role, contentText(m.content)]);

/**
 * Holds the next batch that writes a started send (the one carrying its startsNow check) until `release()`:
 * `arrived` resolves once the run has issued it.
 */
function holdNextStartedSend(database: Database = server.services.database) {
  const write = database.write.bind(database);
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  vi.spyOn(database, "write").mockImplementation((async (writes: Writes) => {
    if (holding && writes.startsNow) {
      holding = false;
      reached();
      await released;
    }
    return write(writes);
  }) as Database["write"]);
  return { arrived, release };
}

/**
 * Records the sends as they reach the run scheduler, in order; `reached(n)` resolves once n have. `before` runs
 * ahead of a send (the send's plan was made before it runs: what the server read is what it read then).
 */
function watchSends(before?: (plan: PlannedSend) => Promise<void>) {
  const runs = server.services.runs;
  const send = runs.send.bind(runs);
  const order: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  vi.spyOn(runs, "send").mockImplementation(async (plan) => {
    order.push(plan.message.text);
    for (const waiter of waiters.filter((w) => order.length >= w.count)) waiter.resolve();
    await before?.(plan);
    return send(plan);
  });
  return {
    order,
    reached: (count: number) =>
      order.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

/** Another process's run of the conversation: its turn, and the run running under that process's live lease. */
async function runElsewhere(conversationId: string): Promise<string> {
  const { db } = server.services;
  const [row] = await db
    .update(conversations)
    .set({ lastTurnSeq: sql`${conversations.lastTurnSeq} + 1` })
    .where(eq(conversations.id, conversationId))
    .returning();
  const turnId = uuidv7();
  await db.insert(turns).values({ id: turnId, conversationId, seq: row!.lastTurnSeq });
  const id = uuidv7();
  await db.insert(conversationRuns).values({
    id,
    conversationId,
    turnId,
    turnSeq: row!.lastTurnSeq,
    state: "running",
    workerId: "elsewhere:1:x",
    leaseExpiresAt: new Date(Date.now() + LEASE_MS),
    startedAt: new Date(),
  });
  return id;
}

/**
 * The person stops the other process's run (`blocker`), and the send queued behind it runs: the transcript is
 * "hello" (the send's own node) and its reply.
 */
async function stopAndRunQueued(
  conversation: { id: string; events: EventStreamReader },
  blocker: string,
  sent: { message: { id: string }; run: { id: string } },
) {
  expect((await client.post(`/api/runs/${blocker}/cancellation`)).status).toBe(200);
  await conversation.events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === sent.run.id);
  const messages = await transcript(conversation.id);
  expect(messages.map((m) => [m.role, m.text])).toEqual([
    ["user", "hello"],
    ["assistant", "Mock reply: hello"],
  ]);
  expect(messages[0]!.id).toBe(sent.message.id);
  return messages;
}

const storeCall = '/mock tool_calls\nmemory_store {"content":"The user\'s cat is called Miso"}';

describe("a send whose run starts before it is written", () => {
  it("sends the provider request and streams the reply before the send is written; its events, prompt and run are there once each", async () => {
    const { id, events } = await newConversation();
    const mock = server.services.mockLlm!;
    const gate = holdNextStartedSend();
    const requested = mock.waitForRequest((r) => lastUserText(r) === "hello");
    let answered = false;
    const posting = post(id, { content: "hello" }).finally(() => (answered = true));
    await gate.arrived;
    const request = await requested;
    // The reply's text reaches clients live while nothing of it is written (decisions/0042).
    const early = await events.waitFor((e) => e.kind === "stream_chunk");
    expect(early.seq).toBeNull();
    // The provider has the prompt while nothing of the send is written and the POST has not answered.
    expect(answered).toBe(false);
    expect(await transcript(id)).toEqual([]);
    expect(await runsOf(id)).toEqual([]);
    gate.release();
    const { message, run } = await posting;
    // The answer tells the run as it is: started, not queued.
    expect(run.state).toBe("running");
    await events.runsEnded(1);

    const persisted = await eventLog(id);
    expect(persisted.map((e) => [e.kind, e.node_id ?? e.run_id])).toEqual([
      ["message_created", message.id],
      ["run_queued", run.id],
      ["conversation_updated", null],
      ["run_started", run.id],
      ["typing_start", run.id],
      ["message_created", expect.any(String)],
      ["stream_complete", persisted[5]!.node_id],
      ["typing_stop", run.id],
      ["run_succeeded", run.id],
    ]);
    const seqs = persisted.map((e) => e.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Live: every persisted event once, in seq order, and the reply's text streamed once before its completion;
    // text went out before the reply's message_created only live, never persisted ahead of it.
    const live = events.events;
    expect(live.filter((e) => e.seq !== null).map((e) => [e.seq, e.kind])).toEqual(
      persisted.map((e) => [e.seq, e.kind]),
    );
    const replyId = persisted[5]!.node_id!;
    expect(early.node_id).toBe(replyId);
    const chunks = live.filter((e) => e.kind === "stream_chunk");
    const created = live.findIndex((e) => e.kind === "message_created" && e.node_id === replyId);
    const complete = live.findIndex((e) => e.kind === "stream_complete");
    expect(live.indexOf(early)).toBeLessThan(created);
    for (const chunk of chunks) {
      expect(chunk.node_id).toBe(replyId);
      if (chunk.seq !== null) expect(live.indexOf(chunk)).toBeGreaterThan(created);
      expect(live.indexOf(chunk)).toBeLessThan(complete);
    }
    const streamed = chunks.map((e) => (e.kind === "stream_chunk" ? e.text : "")).join("");
    expect(streamed).toBe("Mock reply: hello");

    expect(requestsFor("hello")).toEqual([request]);
    expect(dialogue(request)).toEqual([["user", "hello"]]);
    expect(await request.finished).toBe("completed");
    expect((await transcript(id)).map((m) => [m.id, m.role, m.text, m.state])).toEqual([
      [message.id, "user", "hello", "completed"],
      [replyId, "assistant", "Mock reply: hello", "completed"],
    ]);
    const [row] = await runsOf(id);
    expect([row!.id, row!.state, row!.leaseExpiresAt]).toEqual([run.id, "succeeded", null]);
    expect(row!.startedAt).not.toBeNull();
    expect((await stepsOf(run.id)).map((s) => [s.kind, s.state, s.attempt])).toEqual([["model_call", "succeeded", 1]]);
    expect(await callsOf(run.id)).toHaveLength(1);
  });

  it("a send arriving while a started send is being written waits for it: turns keep the order of the sends", async () => {
    const { id, events } = await newConversation();
    const gate = holdNextStartedSend();
    const sends = watchSends();
    const first = post(id, { content: "first" });
    await gate.arrived;
    const second = post(id, { content: "second" });
    await sends.reached(2);
    gate.release();
    const [a, b] = await Promise.all([first, second]);
    await events.runsEnded(2);

    const messages = await transcript(id);
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "first"],
      ["assistant", "Mock reply: first"],
      ["user", "second"],
      ["assistant", "Mock reply: second"],
    ]);
    expect([messages[0]!.id, messages[2]!.id]).toEqual([a.message.id, b.message.id]);
    expect((await runsOf(id)).map((r) => [r.id, r.turnSeq, r.state])).toEqual([
      [a.run.id, 1, "succeeded"],
      [b.run.id, 2, "succeeded"],
    ]);
    // The second was written queued behind the first and ran from the queue: one request, after the first's reply.
    const [request] = requestsFor("second");
    expect(requestsFor("second")).toHaveLength(1);
    expect(dialogue(request!)).toEqual([
      ["user", "first"],
      ["assistant", "Mock reply: first"],
      ["user", "second"],
    ]);
  });

  for (const count of [2, 10]) {
    it(`${count} sends at once get consecutive turns, each reply's prompt holding every earlier message once`, async () => {
      const { id, events } = await newConversation();
      const sends = watchSends();
      const texts = Array.from({ length: count }, (_, i) => `message ${i}`);
      const answers = await Promise.all(texts.map((content) => post(id, { content })));
      await events.runsEnded(count);

      const messages = await transcript(id);
      expect(messages).toHaveLength(2 * count);
      const users = messages.filter((m) => m.role === "user").map((m) => m.text);
      expect([...users].sort()).toEqual([...texts].sort());
      if (!usingPostgres) {
        // On PGlite the writes reach the database in the order the sends reached the scheduler. (On PostgreSQL the
        // sends waiting behind the started one take the row lock on separate connections, in no set order.)
        expect(users).toEqual(sends.order);
      } else {
        expect(users[0]).toBe(sends.order[0]);
      }
      const runs = await runsOf(id);
      expect(runs.map((r) => [r.turnSeq, r.state])).toEqual(users.map((_, i) => [i + 1, "succeeded"]));
      const turnSeqs = await server.services.db
        .select({ seq: turns.seq })
        .from(turns)
        .where(eq(turns.conversationId, id))
        .orderBy(asc(turns.seq));
      expect(turnSeqs.map((t) => t.seq)).toEqual(users.map((_, i) => i + 1));
      const expected: string[][] = [];
      for (const [i, text] of users.entries()) {
        const user = messages[2 * i]!;
        const reply = messages[2 * i + 1]!;
        expect([user.role, user.text, reply.role, reply.text, reply.turnId]).toEqual([
          "user",
          text,
          "assistant",
          `Mock reply: ${text}`,
          user.turnId,
        ]);
        expect(answers.find((a) => a.message.id === user.id)?.run.id).toBe(runs[i]!.id);
        expected.push(["user", text]);
        // The request that made the reply (any before it was a started attempt given up, with its own prompt).
        const requests = requestsFor(text);
        expect(requests.length).toBeGreaterThanOrEqual(1);
        expect(dialogue(requests.at(-1)!)).toEqual(expected);
        for (const request of requests) {
          expect(dialogue(request).filter(([role, t]) => role === "user" && t === text)).toHaveLength(1);
        }
        expect((await callsOf(runs[i]!.id)).map((c) => c.messageCount)).toEqual([expected.length + 1]);
        expected.push(["assistant", `Mock reply: ${text}`]);
      }
      // Each event of the log once: one user message, one queued, one started and one ended run per send.
      const log = await eventLog(id);
      for (const kind of ["run_queued", "run_started", "run_succeeded"] as const) {
        expect(log.filter((e) => e.kind === kind).map((e) => e.run_id)).toEqual(runs.map((r) => r.id));
      }
      const created = log.filter((e) => e.kind === "message_created").map((e) => e.node_id!);
      expect([...created].sort()).toEqual(messages.map((m) => m.id).sort());
      const userIds = messages.filter((m) => m.role === "user").map((m) => m.id);
      expect(created.filter((nodeId) => userIds.includes(nodeId))).toEqual(userIds);
    });
  }

  it("a send while another run of the conversation waits is written queued, and runs once that run ends", async () => {
    const { id, events } = await newConversation();
    const first = await post(id, { content: storeCall });
    await events.waitForKind("run_waiting", (e) => e.run_id === first.run.id);

    const second = await post(id, { content: "second" });
    // The run started here found the waiting run with its first reads: the send is written, queued, and no
    // provider request was made for it.
    expect(second.run.state).toBe("queued");
    expect((await runRow(second.run.id)).state).toBe("queued");
    expect(requestsFor("second")).toEqual([]);
    expect((await runRow(first.run.id)).state).toBe("running");
    expect((await transcript(id)).filter((m) => m.role === "user").map((m) => m.text)).toEqual([storeCall, "second"]);

    const approved = await client.post(`/api/runs/${first.run.id}/approval`, { approved: true });
    expect(approved.status).toBe(200);
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === first.run.id);
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === second.run.id);

    const messages = await transcript(id);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant", "user", "assistant"]);
    const firstReply = messages[2]!.text;
    expect(firstReply).toContain("Tool results: memory_store");
    expect(messages[4]!.text).toBe("Mock reply: second");
    // Its prompt: the whole first turn, then the message once.
    const request = requestsFor("second").at(-1)!;
    expect(dialogue(request).at(-2)).toEqual(["assistant", firstReply]);
    expect(dialogue(request).filter(([role, text]) => role === "user" && text === "second")).toHaveLength(1);
    expect((await stepsOf(second.run.id)).map((s) => [s.kind, s.state, s.attempt])).toEqual([
      ["model_call", "succeeded", 1],
    ]);
    const log = await eventLog(id);
    const ofSecond = log.filter((e) => e.run_id === second.run.id && e.kind.startsWith("run_")).map((e) => e.kind);
    expect(ofSecond).toEqual(["run_queued", "run_started", "run_succeeded"]);
    expect(log.filter((e) => e.kind === "message_created" && e.node_id === second.message.id)).toHaveLength(1);
  });

  it("a run of the conversation that this process does not know of sends the send to the queue", async () => {
    const { id, events } = await newConversation();
    const blocker = await runElsewhere(id);

    const { message, run } = await post(id, { content: "hello" });
    expect((await runRow(run.id)).state).toBe("queued");
    expect(server.services.runs.isRunningHere(run.id)).toBe(false);
    const messages = await stopAndRunQueued({ id, events }, blocker, { message, run });
    // The started attempt found the other run before it asked the provider: one request, from the queued run.
    expect(requestsFor("hello")).toHaveLength(1);
    expect(dialogue(requestsFor("hello").at(-1)!)).toEqual([["user", "hello"]]);
    expect(await callsOf(run.id)).toHaveLength(1);
    expect((await stepsOf(run.id)).map((s) => [s.kind, s.state, s.attempt])).toEqual([["model_call", "succeeded", 1]]);
    const log = await eventLog(id);
    expect(log.filter((e) => e.run_id === run.id && e.kind.startsWith("run_")).map((e) => e.kind)).toEqual([
      "run_queued",
      "run_started",
      "run_succeeded",
    ]);
    expect(log.filter((e) => e.kind === "message_created").map((e) => e.node_id)).toEqual([
      message.id,
      messages[1]!.id,
    ]);
  });

  it("a reply streamed while its send was being written, then queued after all, is withdrawn from clients", async () => {
    const { id, events } = await newConversation();
    const gate = holdNextStartedSend();
    const posting = post(id, { content: "hello" });
    await gate.arrived;
    const early = await events.waitFor((e) => e.kind === "stream_chunk");
    // Another process starts a run of the conversation before the send's batch: its startsNow check fails.
    const blocker = await runElsewhere(id);
    gate.release();
    const { message, run } = await posting;
    const withdrawn = await events.waitFor((e) => e.kind === "stream_withdrawn");
    expect([withdrawn.seq, withdrawn.node_id, withdrawn.run_id]).toEqual([null, early.node_id, run.id]);
    expect((await runRow(run.id)).state).toBe("queued");
    const messages = await stopAndRunQueued({ id, events }, blocker, { message, run });
    expect(messages[1]!.id).not.toBe(early.node_id);
    // The withdrawn node left nothing behind: no row, no persisted event; the queued run asked the provider again.
    expect(await server.services.db.select().from(nodes).where(eq(nodes.id, early.node_id!))).toEqual([]);
    expect((await eventLog(id)).filter((e) => e.node_id === early.node_id)).toEqual([]);
    expect(requestsFor("hello")).toHaveLength(2);
  });

  it("Stop on a reply seen streaming before its run is written waits for the run, then stops it", async () => {
    const { id, events } = await newConversation();
    const gate = holdNextStartedSend();
    const posting = post(id, { content: "/mock long kb=20 delay=20 chunk_size=50" });
    await gate.arrived;
    const early = await events.waitFor((e) => e.kind === "stream_chunk");
    // The page knows the run from its text alone; its row is not written yet when the Stop reaches the route.
    const runs = server.services.runs;
    const whenWritten = runs.whenWritten.bind(runs);
    const reached = new Promise<void>((resolve) =>
      vi.spyOn(runs, "whenWritten").mockImplementation((runId) => {
        resolve();
        return whenWritten(runId);
      }),
    );
    const stopping = client.post(`/api/runs/${early.run_id}/cancellation`);
    let released = false;
    const answeredEarly = stopping.then((response) => {
      if (!released) throw new Error(`Stop answered ${response.status} before its run was written`);
    });
    await Promise.race([reached, answeredEarly]);
    expect(await runsOf(id)).toEqual([]);
    released = true;
    gate.release();
    const { run } = await posting;
    expect(run.id).toBe(early.run_id);
    const stopped = await stopping;
    expect(stopped.status).toBe(200);
    expect((await stopped.json()).state).toBe("canceled");
    await events.waitFor((e) => e.kind === "run_canceled" && e.run_id === run.id);
    expect((await runRow(run.id)).state).toBe("canceled");
  });

  it("a send whose turn is taken before its batch (the conversation read before another send) runs queued, on the right prompt", async () => {
    const { id, events } = await newConversation();
    // While "two" was on its way (its conversation row read, its plan made), "one" was sent and answered.
    const sends = watchSends(async (plan) => {
      if (plan.message.text !== "two") return;
      const one = await post(id, { content: "one" });
      await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === one.run.id);
    });
    const two = await post(id, { content: "two" });
    expect(sends.order).toEqual(["two", "one"]);
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === two.run.id);

    const messages = await transcript(id);
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "one"],
      ["assistant", "Mock reply: one"],
      ["user", "two"],
      ["assistant", "Mock reply: two"],
    ]);
    expect(messages[2]!.id).toBe(two.message.id);
    expect((await runsOf(id)).map((r) => [r.turnSeq, r.state])).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
    ]);
    // The started attempt built its prompt for turn 1 (without "one") and was given up; the reply's has it all.
    const requests = requestsFor("two");
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(dialogue(requests.at(-1)!)).toEqual([
      ["user", "one"],
      ["assistant", "Mock reply: one"],
      ["user", "two"],
    ]);
    expect((await callsOf(two.run.id)).map((c) => c.messageCount)).toEqual([4]);
    const log = await eventLog(id);
    expect(log.filter((e) => e.run_id === two.run.id && e.kind.startsWith("run_")).map((e) => e.kind)).toEqual([
      "run_queued",
      "run_started",
      "run_succeeded",
    ]);
  });

  it("a resend with the same clientMessageId, while the first is started or after it ran, is the same send", async () => {
    const { id, events } = await newConversation();
    const gate = holdNextStartedSend();
    const sends = watchSends();
    const first = post(id, { content: "once", clientMessageId: "c-1" });
    await gate.arrived;
    const resent = post(id, { content: "once", clientMessageId: "c-1" });
    await sends.reached(2);
    gate.release();
    const [a, b] = await Promise.all([first, resent]);
    expect([b.message.id, b.run.id]).toEqual([a.message.id, a.run.id]);
    await events.runsEnded(1);

    const later = await post(id, { content: "once", clientMessageId: "c-1" });
    expect([later.message.id, later.run.id]).toEqual([a.message.id, a.run.id]);
    // A new send after them is the next turn: nothing of the resends was written.
    const next = await post(id, { content: "next" });
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === next.run.id);
    expect((await transcript(id)).map((m) => [m.role, m.text])).toEqual([
      ["user", "once"],
      ["assistant", "Mock reply: once"],
      ["user", "next"],
      ["assistant", "Mock reply: next"],
    ]);
    expect((await runsOf(id)).map((r) => [r.id, r.turnSeq, r.state])).toEqual([
      [a.run.id, 1, "succeeded"],
      [next.run.id, 2, "succeeded"],
    ]);
    // Neither resend asked the provider: one request made the reply.
    expect(requestsFor("once")).toHaveLength(1);
    const user = await server.services.db.select().from(nodes).where(eq(nodes.conversationId, id));
    expect(user.filter((n) => n.kind === "user_message" && n.content === "once")).toHaveLength(1);
    const log = await eventLog(id);
    expect(log.filter((e) => e.kind === "run_queued")).toHaveLength(2);
    expect(log.filter((e) => e.kind === "message_created" && e.node_id === a.message.id)).toHaveLength(1);
  });

  it("an agent program that fails to load keeps the send, and fails its run once", async () => {
    const { id, events } = await newConversation();
    const manifest = path.join(agentsDir, "default-assistant/agent.yml");
    const good = fs.readFileSync(manifest, "utf8");
    fs.writeFileSync(manifest, "model: [unclosed\n");
    const { message, run } = await post(id, { content: "hello" });
    const failed = await events.waitForKind("run_failed", (e) => e.run_id === run.id);
    expect((failed.payload.error as { code: string }).code).toBe("agent_program_error");

    // Mended, the next send runs: anything the failed run still had to write would be in the log before its end.
    fs.writeFileSync(manifest, good);
    const next = await post(id, { content: "after" });
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === next.run.id);
    const row = await runRow(run.id);
    expect([row.state, row.error?.code]).toEqual(["failed", "agent_program_error"]);
    expect(await stepsOf(run.id)).toEqual([]);
    expect(requestsFor("hello")).toEqual([]);
    const log = await eventLog(id);
    expect(log.filter((e) => e.run_id === run.id && e.kind.startsWith("run_")).map((e) => e.kind)).toEqual([
      "run_queued",
      "run_failed",
    ]);
    expect(events.events.filter((e) => e.kind === "run_failed")).toHaveLength(1);
    const messages = await transcript(id);
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "hello"],
      ["user", "after"],
      ["assistant", "Mock reply: after"],
    ]);
    expect(messages[0]!.id).toBe(message.id);
  });
});

if (!usingPostgres) {
  console.info("started-send.test.ts: the two-process case runs in the PostgreSQL suite");
}

describeOnPostgres("a started send on one of two processes sharing a PostgreSQL database", () => {
  it("a send on B while A runs the conversation's run is written queued, and runs after it, in turn", async () => {
    const b = await startTestServer({ databaseUrl: server.config.databaseUrl, env: { CYBROS_AGENTS_DIR: agentsDir } });
    try {
      await b.url();
      const clientB = b.client();
      expect((await clientB.post("/api/session", OWNER)).status).toBe(201);
      const { id, events } = await newConversation();
      const onB = await EventStreamReader.open(clientB, id, 0);
      readers.push(onB);
      const slow = "/mock long kb=1 chunk_size=8 delay=25";
      const first = await post(id, { content: slow });
      await events.waitFor((e) => e.kind === "stream_chunk" && e.run_id === first.run.id);

      const second = await post(id, { content: "second" }, clientB);
      // A's run was still running when B's first batch checked: B wrote the send queued.
      expect((await runRow(first.run.id)).state).toBe("running");
      expect((await runRow(second.run.id)).state).toBe("queued");
      await onB.waitFor((e) => e.kind === "run_succeeded" && e.run_id === second.run.id, 60_000);

      const messages = await transcript(id, clientB);
      expect(messages.map((m) => [m.role, m.state])).toEqual([
        ["user", "completed"],
        ["assistant", "completed"],
        ["user", "completed"],
        ["assistant", "completed"],
      ]);
      expect(messages[1]!.text).toHaveLength(1024);
      expect([messages[2]!.text, messages[3]!.text]).toEqual(["second", "Mock reply: second"]);
      const runs = await runsOf(id);
      expect(runs.map((r) => [r.id, r.turnSeq, r.state])).toEqual([
        [first.run.id, 1, "succeeded"],
        [second.run.id, 2, "succeeded"],
      ]);
      expect(runs[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(runs[0]!.finishedAt!.getTime());
      const mocks = [server.services.mockLlm!, b.services.mockLlm!];
      expect(dialogue(requestsFor("second", mocks).at(-1)!)).toEqual([
        ["user", slow],
        ["assistant", messages[1]!.text],
        ["user", "second"],
      ]);
      expect(await callsOf(second.run.id)).toHaveLength(1);
      const log = await eventLog(id);
      expect(log.filter((e) => e.run_id === second.run.id && e.kind.startsWith("run_")).map((e) => e.kind)).toEqual([
        "run_queued",
        "run_started",
        "run_succeeded",
      ]);
    } finally {
      await b.close();
    }
  });
});
