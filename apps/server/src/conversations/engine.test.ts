import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type EventEnvelope, eventEnvelope } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultAccount, updateSettings } from "../accounts/index.js";
import { repoRoot } from "../config.js";
import { endRun, findRun } from "../runs/index.js";
import { defaultAssistantId } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { startLocalHttp } from "../testing/local-http.js";

let server: TestServer;
let client: TestClient;
let agentsDir: string;
const readers: EventStreamReader[] = [];

beforeEach(boot);
afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  await server.close();
  fs.rmSync(agentsDir, { recursive: true, force: true });
});

/** A signed-in server whose bundled agents are a private copy, so a test may edit AGENT.md. */
async function boot() {
  agentsDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agents-"));
  fs.cpSync(path.join(repoRoot, "agents"), agentsDir, { recursive: true });
  ({ server, client } = await startSignedIn({ env: { CYBROS_AGENTS_DIR: agentsDir } }));
  await server.url();
}

async function newConversation(): Promise<string> {
  const agentId = await defaultAssistantId(server.services.db);
  const created = await client.post("/api/conversations", { agentProgramId: agentId });
  expect(created.status).toBe(201);
  return (await created.json()).id;
}

async function subscribe(conversationId: string, cursor?: number) {
  const reader = await EventStreamReader.open(client, conversationId, cursor);
  readers.push(reader);
  return reader;
}

async function send(conversationId: string, content: string) {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
  return response.json();
}

async function pollOnce(conversationId: string, cursor: number) {
  const page = await (await client.get(`/api/conversations/${conversationId}/events/poll?cursor=${cursor}`)).json();
  return eventEnvelope.array().parse(page.events);
}

async function transcript(conversationId: string) {
  const page = await (await client.get(`/api/conversations/${conversationId}/messages?limit=200`)).json();
  return page.messages as {
    id: string;
    role: string;
    text: string;
    state: string;
    turnId: string;
    parts: { type: string; name?: string; state?: string }[];
  }[];
}

describe("conversation engine", () => {
  it("sends the exact history to the model over a multi-turn conversation", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    await send(id, "Hello there");
    await events.runsEnded(1);
    await send(id, "And again");
    await events.runsEnded(2);

    const requests = server.services.mockLlm!.requests();
    const last = requests.at(-1)!;
    expect(last.model).toBe("mock-model");
    const roles = last.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "user"]);
    expect(last.messages.slice(1).map((m) => m.content)).toEqual([
      "Hello there",
      "Mock reply: Hello there",
      "And again",
    ]);
    // The system prompt is byte-identical across turns: the cacheable prefix never moves.
    expect(requests.at(-2)!.messages[0]!.content).toBe(last.messages[0]!.content);
    expect(last.cachedTokens).toBeGreaterThan(0);

    const messages = await transcript(id);
    expect(messages.map((m) => [m.role, m.text, m.state])).toEqual([
      ["user", "Hello there", "completed"],
      ["assistant", "Mock reply: Hello there", "completed"],
      ["user", "And again", "completed"],
      ["assistant", "Mock reply: And again", "completed"],
    ]);
  });

  it("picks up edits to AGENT.md and SOUL.md on the next turn", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    await send(id, "first");
    await events.runsEnded(1);
    const before = server.services.mockLlm!.requests().at(-1)!.messages[0]!.content as string;
    fs.writeFileSync(path.join(agentsDir, "default-assistant/AGENT.md"), "You answer only in haiku.\n");
    fs.appendFileSync(path.join(agentsDir, "default-assistant/SOUL.md"), "\nYou love the sea.\n");
    await send(id, "second");
    await events.runsEnded(2);
    const after = server.services.mockLlm!.requests().at(-1)!.messages[0]!.content as string;
    expect(before).not.toContain("haiku");
    expect(after).toContain("You answer only in haiku.");
    expect(after).toContain("You love the sea.");
  });

  it("stores a memory with one tool call and finds it with another, both visible as task nodes", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    await send(id, '/mock tool_calls\nmemory_store {"content":"The user\'s cat is called Miso"}');
    await events.runsEnded(1);
    await send(id, '/mock tool_calls\nmemory_search {"query":"cat"}');
    await events.runsEnded(2);
    await send(id, '/mock tool_calls\nmemory_forget {"id":"no-such-memory"}');
    await events.runsEnded(3);

    const messages = await transcript(id);
    const toolParts = messages.flatMap((m) => m.parts.filter((p) => p.type === "tool_call")) as unknown as {
      name: string;
      state: string;
      result: string;
      title: string;
      summary: string;
    }[];
    expect(toolParts.map((p) => [p.name, p.state, p.title])).toEqual([
      ["memory_store", "completed", "Saved to memory"],
      ["memory_search", "completed", "Searched memory for “cat”"],
      ["memory_forget", "error", "Forgot a memory"],
    ]);
    // The card's line: what was found, or what failed, without opening it.
    expect(toolParts[1]!.summary).toBe("1 memory found");
    expect(toolParts[2]!.summary).toMatch(/^No memory with id no-such-memory/);
    const started = events.events.find((e) => e.kind === "tool_call")!;
    expect((started.payload.part as { title: string }).title).toBe("Saved to memory");
    expect(toolParts[1]!.result).toContain("Miso");
    // The model saw the tool result and answered after it, in the same turn.
    const toolAnswers = server.services.mockLlm!.requests().map((r) => r.messages.at(-1)!);
    expect(toolAnswers.some((m) => m.role === "tool" && String(m.content).includes("Miso"))).toBe(true);
    expect(events.events.filter((e) => e.kind === "tool_call")).toHaveLength(3);
    expect(events.events.filter((e) => e.kind === "tool_result")).toHaveLength(3);
  });

  it("answers ten rapid sends in order, each paired with its own reply", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => send(id, `message ${i}`)));
    // A resend with the same clientMessageId answers the first result instead of a second turn.
    const first = await (
      await client.post(`/api/conversations/${id}/messages`, { content: "once", clientMessageId: "c-1" })
    ).json();
    const again = await (
      await client.post(`/api/conversations/${id}/messages`, { content: "once", clientMessageId: "c-1" })
    ).json();
    expect(again.message.id).toBe(first.message.id);
    const created = await events.waitForKind("message_created", (e) => e.node_id === first.message.id);
    expect(created.payload.clientMessageId).toBe("c-1");
    const turnIds = new Set(sent.map((s) => s.message.turnId));
    expect(turnIds.size).toBe(10);
    await events.runsEnded(11);
    const messages = (await transcript(id)).filter((m) => m.turnId !== first.message.turnId);
    expect(messages).toHaveLength(20);
    const order = messages.filter((m) => m.role === "user").map((m) => m.text);
    // Concurrent posts may commit in any order; the transcript keeps commit order and pairs each reply.
    expect([...order].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i}`).sort());
    for (let i = 0; i < 20; i += 2) {
      expect(messages[i]!.role).toBe("user");
      expect(messages[i + 1]!.role).toBe("assistant");
      expect(messages[i + 1]!.turnId).toBe(messages[i]!.turnId);
      expect(messages[i + 1]!.text).toBe(`Mock reply: ${messages[i]!.text}`);
    }
  });

  it("cancels mid-stream: the provider request closes and nothing more is broadcast", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const { run } = await send(id, "/mock long kb=20 delay=20 chunk_size=50");
    await events.waitFor((e) => e.kind === "stream_chunk");
    const request = server.services.mockLlm!.requests().at(-1)!;
    const canceled = await client.post(`/api/runs/${run.id}/cancellation`);
    expect(canceled.status).toBe(200);
    expect((await canceled.json()).state).toBe("canceled");
    expect(await request.finished).toBe("client_closed");
    await events.waitFor((e) => e.kind === "run_canceled");
    const count = events.events.length;
    // Something the run would have sent next is a stream chunk; give the stream a moment of real traffic.
    await send(id, "after the stop");
    await events.runsEnded(2);
    const afterCancel = events.events.slice(count).filter((e) => e.run_id === run.id);
    expect(afterCancel.map((e) => [e.kind, e.seq])).toEqual([]);
    const messages = await transcript(id);
    expect(messages[1]!.state).toBe("canceled");
    expect(messages[1]!.text.length).toBeGreaterThan(0);
    // Live pages end on the stopped reply's stream_complete: it carries exactly the text a reload shows.
    const complete = events.events.filter((e) => e.kind === "stream_complete" && e.node_id === messages[1]!.id);
    expect(complete.map((e) => e.kind === "stream_complete" && e.text)).toEqual([messages[1]!.text]);
    expect(messages[3]!.text).toBe("Mock reply: after the stop");
  });

  it("records a reply's provider call and announces its run in order, start to end", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const { run } = await send(id, "hello");
    await events.runsEnded(1);
    const detail = await (await client.get(`/api/runs/${run.id}`)).json();
    expect(detail.run.state).toBe("succeeded");
    expect(detail.llmCalls).toHaveLength(1);
    expect(detail.llmCalls[0].usage.promptTokens).toBeGreaterThan(0);
    const persisted = (await pollOnce(id, 0)).map((e) => e.kind);
    expect(persisted).toEqual([
      "message_created",
      "run_queued",
      "conversation_updated",
      "run_started",
      "typing_start",
      "message_created",
      "stream_complete",
      "typing_stop",
      "run_succeeded",
    ]);
  });

  it("a run ended elsewhere mid-reply keeps that end, and its provider call is still recorded", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const { run } = await send(id, "/mock text chunk_size=6 delay=40\nhello there, streaming slowly");
    await events.waitFor((e) => e.kind === "stream_chunk");
    // As the reaper does to a run whose heartbeat went stale: the runner is not told and streams on.
    const error = { code: "interrupted", message: "ended elsewhere" } as const;
    expect(
      await endRun(server.services, await findRun(server.services, run.id), { state: "failed", error }),
    ).toBeDefined();
    await expect.poll(() => server.services.runs.isRunningHere(run.id)).toBe(false);
    const detail = await (await client.get(`/api/runs/${run.id}`)).json();
    expect(detail.run.state).toBe("failed");
    expect(detail.run.error).toEqual(error);
    expect(detail.llmCalls).toHaveLength(1);
    expect(detail.llmCalls[0].finishReason).toBe("stop");
    const ofRun = events.events.filter((e) => e.run_id === run.id);
    expect(ofRun.filter((e) => e.kind === "run_succeeded" || e.kind === "run_failed").map((e) => e.kind)).toEqual([
      "run_failed",
    ]);
    const completions = ofRun.filter((e) => e.kind === "stream_complete");
    expect(completions.map((e) => (e.payload as { state?: string }).state)).toEqual(["errored"]);
  });

  it("a Stop landing while the reply is being set up never leaves it streaming", async () => {
    // Stops at 0, 10, … 150 ms after the send cover the run's start: claimed, reply node created, streaming.
    for (let delay = 0; delay <= 150; delay += 10) {
      const id = await newConversation();
      const events = await subscribe(id, 0);
      const { run } = await send(id, "/mock text chunk_size=6 delay=40\nhello there, streaming slowly");
      await new Promise((resolve) => setTimeout(resolve, delay));
      const stopped = await client.post(`/api/runs/${run.id}/cancellation`);
      expect([200, 409]).toContain(stopped.status);
      await events.runsEnded(1);
      await expect
        .poll(async () => (await transcript(id)).filter((m) => m.state === "pending" || m.state === "streaming"))
        .toEqual([]);
    }
  });

  it("fails a run on a provider error, then a retry succeeds and replaces the failed reply", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const scenario = await client.post("/mock_llm/v1/scenarios", {
      name: "flaky",
      steps: [
        { reply: "error", status: 400, message: "bad request from the provider" },
        { reply: "text", text: "Recovered." },
      ],
    });
    expect(scenario.status).toBeLessThan(300);
    const { run } = await send(id, "/mock scenario name=flaky");
    const failed = await events.waitFor((e) => e.kind === "run_failed");
    expect(failed.payload.error).toMatchObject({ code: "http_error", status: 400 });
    let messages = await transcript(id);
    expect(messages[1]!.state).toBe("errored");

    const retried = await client.post(`/api/runs/${run.id}/retry`);
    expect(retried.status).toBe(202);
    expect((await retried.json()).retryOfId).toBe(run.id);
    await events.waitFor((e) => e.kind === "run_succeeded");
    messages = await transcript(id);
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "/mock scenario name=flaky"],
      ["assistant", "Recovered."],
    ]);
  });

  it("warns in the log, rate-limited, while a running run emits nothing", async () => {
    await server.close();
    ({ server, client } = await startSignedIn({
      env: { CYBROS_AGENTS_DIR: agentsDir, CYBROS_RUN_SILENCE_WARNING_MS: "1000" },
    }));
    await server.url();
    const id = await newConversation();
    const events = await subscribe(id, 0);
    const { run } = await send(id, "/mock hang");
    const silent = () => server.logs().filter((l) => l.msg === "running run has emitted nothing" && l.runId === run.id);
    await expect.poll(() => silent().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    expect(silent()[0]!.level).toBe(40);
    await client.post(`/api/runs/${run.id}/cancellation`);
    await events.waitFor((e) => e.kind === "run_canceled");
    // One warning per interval at most: the heartbeat (every 5 s) never repeats it faster than the threshold.
    const times = silent().map((l) => l.time as number);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it("resumes from every cursor of a finished run with the full text exactly once", async () => {
    const id = await newConversation();
    const live = await subscribe(id, 0);
    await send(id, "/mock long kb=8 delay=1 chunk_size=64");
    // A polling client sees the log as it grows, persisted chunks included (they are compacted at the end).
    const seen: Awaited<ReturnType<typeof pollOnce>> = [];
    let ended = false;
    void live.runsEnded(1).then(() => {
      ended = true;
    });
    while (!ended || seen.at(-1)?.kind !== "run_succeeded") {
      seen.push(...(await pollOnce(id, seen.at(-1)?.seq ?? 0)));
    }
    const final = (await transcript(id))[1]!.text;
    expect(final.length).toBeGreaterThanOrEqual(8 * 1024);
    const agentNode = (await transcript(id))[1]!.id;
    // A client that stopped at any of these cursors holds their text; resuming after it must converge on the
    // final text, never more.
    expect(seen.filter((e) => e.kind === "stream_chunk").length).toBeGreaterThan(3);
    for (const stop of seen) {
      const held = assemble(seen.filter((e) => e.seq! <= stop.seq!));
      const page = (await (await client.get(`/api/conversations/${id}/events/poll?cursor=${stop.seq}`)).json()).events;
      const resumed = assemble(page, held);
      expect(resumed.get(agentNode) ?? "", `cursor ${stop.seq}`).toBe(final);
    }
  });

  it("does not send a live subscriber persisted copies of text it already has, and resuming still converges", async () => {
    const id = await newConversation();
    const live = await subscribe(id, 0);
    await send(id, "/mock long kb=4 delay=1 chunk_size=32");
    // Joins mid-reply, once text is in the log: that comes by replay, the rest live.
    await live.waitFor((e) => e.kind === "stream_chunk" && Number(e.payload.offset) > 512);
    await server.services.streams.flush();
    const late = await subscribe(id, 0);
    await Promise.all([live.runsEnded(1), late.runsEnded(1)]);
    const [, reply] = await transcript(id);
    const chunks = live.events.filter((e) => e.kind === "stream_chunk");
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.filter((e) => e.seq !== null)).toEqual([]);
    for (const reader of [live, late]) {
      const before = reader.events.filter((e) => e.kind !== "stream_complete");
      expect(assemble(before).get(reply!.id)).toBe(reply!.text);
    }
    expect(late.events.some((e) => e.kind === "stream_chunk" && e.seq !== null)).toBe(true);
    // A client that kept only the live subscriber's last cursor replays what it skipped, placed by offset.
    const cursor = Math.max(...live.events.filter((e) => e.kind === "message_created").map((e) => e.seq!));
    const held = assemble(live.events.filter((e) => e.seq === null || e.seq <= cursor));
    expect(assemble(await pollOnce(id, cursor), held).get(reply!.id)).toBe(reply!.text);
  });

  it("a live subscriber gets events committed but published late or by another process, in seq order", async () => {
    const id = await newConversation();
    const live = await subscribe(id, 0);
    await send(id, "hello");
    await live.runsEnded(1);
    const { realtime, db } = server.services;
    // Committed and not yet published here: another process's event whose notification is still on its way,
    // or a concurrent writer whose publish runs late. The next event published here skips its seq.
    const [late] = await realtime.record(db, [
      { conversationId: id, kind: "conversation_updated", payload: { title: "late" } },
    ]);
    const [next] = await realtime.emit(db, [
      { conversationId: id, kind: "conversation_updated", payload: { title: "next" } },
    ]);
    await live.waitFor((e) => e.seq === next!.seq);
    const after = live.events.filter((e) => e.seq !== null && e.seq >= late!.seq!);
    expect(after.map((e) => [e.seq, e.kind, e.payload])).toEqual([
      [late!.seq, "conversation_updated", { title: "late" }],
      [next!.seq, "conversation_updated", { title: "next" }],
    ]);
    expect(next!.seq).toBe(late!.seq! + 1);
  });
});

describe("text the database cannot store, from the outside world", () => {
  type ToolPart = { name: string; state: string; args: unknown; result: string };
  const toolParts = (messages: Awaited<ReturnType<typeof transcript>>) =>
    messages.flatMap((m) => m.parts.filter((p) => p.type === "tool_call")) as unknown as ToolPart[];

  it("keeps a reply whose stream holds NUL, a lone surrogate and a surrogate pair split across chunks", async () => {
    server.services.mockLlm!.defineScenario({
      name: "hostile-text",
      steps: [{ reply: "text", chunks: ["Hello\u0000 wor", "ld \ud800!", " rocket \ud83d", "\ude80 done"] }],
    });
    const id = await newConversation();
    const events = await subscribe(id, 0);
    await send(id, "/mock scenario name=hostile-text");
    const [ended] = await events.runsEnded(1);
    expect(ended!.kind).toBe("run_succeeded");
    const reply = (await transcript(id))[1]!;
    expect([reply.text, reply.state]).toEqual(["Hello world \ufffd! rocket 🚀 done", "completed"]);
    // What streamed live is what was stored.
    expect(assemble(await pollOnce(id, 0)).get(reply.id)).toBe(reply.text);
  });

  it("runs a tool call whose arguments hold NUL and a lone surrogate, escaped or raw", async () => {
    const id = await newConversation();
    const events = await subscribe(id, 0);
    // Escaped inside the JSON text, and (through the quoted `args=`) raw characters in it.
    await send(id, '/mock tool_calls\nmemory_store {"content":"Miso\\u0000 the cat \\ud800"}');
    await send(id, '/mock tool_calls name=memory_store args="{\\"content\\":\\"Tom\\u0000 \\ud800\\"}"');
    const ended = await events.runsEnded(2);
    expect(ended.map((e) => e.kind)).toEqual(["run_succeeded", "run_succeeded"]);
    const parts = toolParts(await transcript(id));
    expect(parts.map((p) => [p.name, p.state])).toEqual([
      ["memory_store", "completed"],
      ["memory_store", "completed"],
    ]);
    expect(parts.map((p) => p.args)).toEqual([{ content: "Miso the cat \ufffd" }, { content: "Tom \ufffd" }]);
  });

  it("reads a fetched page with NUL bytes into the reply's tool result", async () => {
    const site = await startLocalHttp((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("before\u0000after \u0000end"),
    );
    try {
      const account = await defaultAccount(server.services.db);
      await updateSettings(server.services.db, account, { webFetchAllowlist: [site.host] });
      const id = await newConversation();
      const events = await subscribe(id, 0);
      await send(id, `/mock tool_calls\nweb_fetch {"url":"${site.url}/page.txt"}`);
      const [ended] = await events.runsEnded(1);
      expect(ended!.kind).toBe("run_succeeded");
      const messages = await transcript(id);
      const [part] = toolParts(messages);
      expect(part!.state).toBe("completed");
      expect(part!.result).toContain("beforeafter end");
      expect(messages.at(-1)!.text).toContain("beforeafter end");
    } finally {
      await site.close();
    }
  });
});

/** What a client holding nothing would show per node after applying the events. */
function assemble(events: EventEnvelope[], held = new Map<string, string>()) {
  const text = new Map(held);
  for (const event of events) {
    if (!event.node_id) continue;
    if (event.kind === "stream_chunk") {
      const have = text.get(event.node_id) ?? "";
      const offset = event.payload.offset;
      if (offset <= have.length) text.set(event.node_id, have + event.text.slice(have.length - offset));
    }
    if (event.kind === "stream_complete") text.set(event.node_id, event.text);
  }
  return text;
}
