import type { EventEnvelope, RunError, ToolCallPart as ToolPart } from "@cybros/protocol";
import { describe, expect, it } from "vitest";
import {
  acknowledgeLocal,
  activeRun,
  addLocalMessage,
  applyDirectiveOutput,
  applyEvent,
  applyEvents,
  applySnapshot,
  type ChatState,
  emptyChatState,
  isStreamingMessage,
  orderedMessages,
  resolveApproval,
  setLocalStatus,
  supersededRuns,
  tick,
  touchActiveRuns,
} from "./reconciler";
import { CONVERSATION, envelope, page, runEvent, runSummary, toolPart, transcriptMessage, turnEvents } from "./testing";

const start = () => emptyChatState(CONVERSATION, { silentMs: 10_000, stalledMs: 30_000 });
const texts = (s: ChatState) => orderedMessages(s).map((m) => `${m.role}:${m.text}`);

function chunk(seq: number | null, offset: number, text: string, node = "a1"): EventEnvelope {
  return envelope("stream_chunk", { turn_id: "t1", run_id: "r1", node_id: node, seq, text, payload: { offset } });
}

/** The live withdrawal of a node that was streamed but never written. */
function withdrawn(node: string): EventEnvelope {
  return envelope("stream_withdrawn", { turn_id: "t1", run_id: "r1", node_id: node, seq: null, payload: {} });
}

function created(seq: number, id: string, fields: Parameters<typeof transcriptMessage>[0] | object = {}) {
  return envelope("message_created", {
    turn_id: "t1",
    run_id: "r1",
    node_id: id,
    seq,
    payload: { message: transcriptMessage({ id, runId: "r1", state: "pending", ...fields }) },
  });
}

/** A small xorshift PRNG so shuffles are reproducible. */
function random(seed: number) {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 1_000_000) / 1_000_000;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("stream chunks", () => {
  it("appends only the part beyond the text held, so duplicates and overlaps are harmless", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello"), chunk(3, 5, ", wor")], 0);
    s = applyEvents(s, [chunk(3, 5, ", wor"), chunk(null, 3, "lo, world"), chunk(null, 0, "Hel")], 0);
    expect(s.messages.get("a1")!.text).toBe("Hello, world");
    expect(s.messages.get("a1")!.state).toBe("streaming");
    expect(s.dropped).toBe(1);
  });

  it("drops events at or below the snapshot's cursor", () => {
    let s = applySnapshot(
      start(),
      page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", text: "Hello" })], 10),
    );
    s = applyEvents(s, [chunk(9, 0, "Hel"), chunk(10, 3, "lo")], 0);
    expect(s.messages.get("a1")!.text).toBe("Hello");
    expect(s.dropped).toBe(2);
    s = applyEvent(s, chunk(11, 5, "!"), 0);
    expect(s.messages.get("a1")!.text).toBe("Hello!");
    expect(s.cursor).toBe(11);
  });

  it("holds the text and asks for a resync when a chunk starts beyond it, never showing garbled text", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello"), chunk(4, 12, "!!")], 0);
    expect(s.messages.get("a1")!.text).toBe("Hello");
    expect(s.messages.get("a1")!.gap).toBe(true);
    expect(s.resync).toBe(true);
    s = applyEvent(s, chunk(3, 5, ", world"), 0);
    expect(s.messages.get("a1")!.text).toBe("Hello, world!!");
    expect(s.messages.get("a1")!.gap).toBe(false);
  });

  it("fills a gap from the messages page and keeps the buffered chunks beyond it", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello"), chunk(9, 12, "!!")], 0);
    s = applySnapshot(
      s,
      page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", text: "Hello, world" })], 8),
    );
    expect(s.messages.get("a1")!.text).toBe("Hello, world!!");
    expect(s.resync).toBe(false);
  });

  it("keeps asking while a page older than the buffered chunk leaves the gap open", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello"), chunk(9, 12, "!!")], 0);
    s = applySnapshot(s, page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", text: "Hello, w" })], 3));
    expect(s.messages.get("a1")!.text).toBe("Hello, w");
    expect(s.resync).toBe(true);
  });

  it("replaces the assembled text with stream_complete's full text (chunks compacted away)", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hel"), chunk(7, 40, "tail")], 0);
    s = applyEvent(
      s,
      envelope("stream_complete", {
        run_id: "r1",
        node_id: "a1",
        seq: 9,
        text: "Hello, world",
        payload: { state: "completed" },
      }),
      0,
    );
    const m = s.messages.get("a1")!;
    expect(m.text).toBe("Hello, world");
    expect(m.state).toBe("completed");
    expect(m.gap).toBe(false);
    s = applyEvents(s, [chunk(null, 12, " more"), chunk(8, 3, "XX")], 0);
    expect(s.messages.get("a1")!.text).toBe("Hello, world");
  });

  it("trusts the newer delta when the same offset holds different text, and asks for the page", () => {
    const s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello"), chunk(3, 3, "p!")], 0);
    expect(s.messages.get("a1")!.text).toBe("Help!");
    expect(s.resync).toBe(true);
  });

  it("creates a placeholder for chunks of an unknown node and merges message_created into it", () => {
    let s = applyEvent(start(), chunk(5, 0, "Hi"), 0);
    expect(s.messages.get("a1")!.placeholder).toBe(true);
    s = applyEvent(s, created(4, "a1", { createdAt: "2026-01-01T00:00:01.000Z" }), 0);
    const m = s.messages.get("a1")!;
    expect(m.placeholder).toBe(false);
    expect(m.text).toBe("Hi");
    expect(m.createdAt).toBe("2026-01-01T00:00:01.000Z");
  });

  it("drops a placeholder whose node is withdrawn, and its run waits again", () => {
    let s = applyEvents(start(), [created(1, "u1", { role: "user", text: "hi" }), chunk(null, 0, "Hel")], 0);
    expect(s.runs.get("r1")).toMatchObject({ state: "running", activeNodeId: "a1" });
    s = applyEvent(s, withdrawn("a1"), 0);
    expect(texts(s)).toEqual(["user:hi"]);
    expect(s.runs.get("r1")).toMatchObject({ state: "queued", activeNodeId: null });
    // The queued run's reply, a new node, streams as any does.
    s = applyEvents(
      s,
      [runEvent("run_started", { turn_id: "t1", run_id: "r1", seq: 2 }), chunk(null, 0, "Hello", "a2")],
      0,
    );
    expect(texts(s)).toEqual(["user:hi", "assistant:Hello"]);
    expect(s.runs.get("r1")!.state).toBe("running");
  });

  it("keeps a written message when a withdrawal names it (a late or stray event)", () => {
    const s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hi"), withdrawn("a1")], 0);
    expect(texts(s)).toEqual(["assistant:Hi"]);
  });
});

describe("ordering", () => {
  const turns = [1, 2, 3, 4, 5].map((n) => ({
    turn: `t${n}`,
    run: `r${n}`,
    user: `u${n}`,
    assistant: `a${n}`,
    prompt: `question ${n}`,
    reply: `answer number ${n}, which is long enough for several chunks`,
  }));
  let seq = 1;
  const all = turns.flatMap((t) => {
    const events = turnEvents({ ...t, seq });
    seq += events.length;
    return events;
  });
  const expected = turns.flatMap((t) => [`user:${t.prompt}`, `assistant:${t.reply}`]);

  it("orders by turn and role, never by arrival", () => {
    const s = applyEvents(start(), [...all].reverse(), 0);
    expect(texts(s)).toEqual(expected);
  });

  it("converges to the in-order result under any shuffle with duplicates and a snapshot midway", () => {
    const inOrder = applyEvents(start(), all, 0);
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed);
      const noisy = shuffle([...all, ...all.filter(() => rand() < 0.3)], rand);
      const cut = Math.floor(rand() * noisy.length);
      let s = applyEvents(start(), noisy.slice(0, cut), 0);
      if (rand() < 0.5) {
        const snapshotAt = Math.floor(rand() * all.length);
        const truth = applyEvents(start(), all.slice(0, snapshotAt), 0);
        const messages = orderedMessages(truth).map((m) =>
          transcriptMessage({ ...m, parts: [...m.tools], turnId: m.turnId ?? "", error: m.error }),
        );
        const runs = [...truth.runs.values()].map((r) => runSummary({ ...r, turnId: r.turnId ?? "" }));
        s = applySnapshot(s, page(messages, truth.cursor), { runs });
      }
      s = applyEvents(s, noisy.slice(cut), 0);
      expect(texts(s), `seed ${seed}`).toEqual(expected);
      expect(
        orderedMessages(s).every((m) => m.state === "completed" && !m.gap),
        `seed ${seed}`,
      ).toBe(true);
      expect([...s.runs.values()].map((r) => r.state)).toEqual([...inOrder.runs.values()].map(() => "succeeded"));
    }
  });

  it("applies a late event below the cursor that was never seen", () => {
    const toolCall = envelope("tool_call", {
      turn_id: "t1",
      run_id: "r1",
      node_id: "task1",
      seq: 3,
      payload: {
        messageId: "a1",
        part: toolPart({ id: "task1", callId: "c1", name: "memory_search", args: { q: "x" } }),
      },
    });
    const s = applyEvents(start(), [created(1, "a1"), chunk(4, 0, "Hi"), toolCall], 0);
    expect(s.messages.get("a1")!.tools.map((t) => t.name)).toEqual(["memory_search"]);
  });
});

describe("tool calls", () => {
  const at = { turn_id: "t1", run_id: "r1", node_id: "task1" };
  const call = (seq: number, part: ToolPart) =>
    envelope("tool_call", { ...at, seq, payload: { messageId: "a1", part } });
  const result = (seq: number, part: ToolPart) =>
    envelope("tool_result", { ...at, seq, payload: { messageId: "a1", part } });
  const fetching = toolPart({ id: "task1", callId: "c1", name: "web_fetch", args: { url: "u" } });

  it("tracks a tool part by its task node id from call to result", () => {
    let s = applyEvents(start(), [created(1, "a1"), call(2, fetching)], 0);
    expect(s.messages.get("a1")!.tools[0]).toMatchObject({ id: "task1", name: "web_fetch", state: "running" });
    s = applyEvent(s, result(3, { ...fetching, state: "completed", result: { ok: true }, durationMs: 42 }), 0);
    expect(s.messages.get("a1")!.tools).toEqual([
      {
        type: "tool_call",
        id: "task1",
        callId: "c1",
        name: "web_fetch",
        args: { url: "u" },
        state: "completed",
        result: { ok: true },
        durationMs: 42,
      },
    ]);
  });

  it("never lets a late call undo a result, and records errors", () => {
    let s = applyEvents(start(), [created(1, "a1"), result(3, { ...fetching, state: "error", error: "boom" })], 0);
    s = applyEvent(s, call(2, fetching), 0);
    expect(s.messages.get("a1")!.tools[0]).toMatchObject({ name: "web_fetch", state: "error", error: "boom" });
  });
});

describe("runs and the indicator", () => {
  const at = { turn_id: "t1", run_id: "r1" };

  it("moves a run forward only, and anchors the indicator to the node the server names", () => {
    let s = applyEvents(
      start(),
      [
        runEvent("run_queued", { ...at, seq: 1 }),
        runEvent("run_started", { ...at, seq: 2 }, {}, { activeNodeId: "a1" }),
      ],
      0,
    );
    expect(s.runs.get("r1")).toMatchObject({ state: "running", activeNodeId: "a1" });
    expect(s.runs.get("r1")!.indicator.phase).toBe("streaming");
    s = applyEvents(s, [created(3, "a1"), chunk(4, 0, "Hi")], 0);
    expect(isStreamingMessage(s, s.messages.get("a1")!)).toBe(true);
    s = applyEvents(s, [runEvent("run_succeeded", { ...at, seq: 6 }), runEvent("run_started", { ...at, seq: 5 })], 0);
    expect(s.runs.get("r1")!.state).toBe("succeeded");
    expect(s.runs.get("r1")!.indicator.phase).toBe("completed");
    expect(activeRun(s)).toBeNull();
  });

  it("puts the run's error on its active bubble when it fails", () => {
    const error: RunError = { code: "http_error", message: "The provider answered 500", status: 500 };
    const s = applyEvents(
      start(),
      [created(1, "a1"), chunk(2, 0, "Hal"), runEvent("run_failed", { ...at, seq: 3 }, { error })],
      0,
    );
    expect(s.messages.get("a1")).toMatchObject({ state: "errored", error, text: "Hal" });
    expect(s.runs.get("r1")!.indicator.phase).toBe("errored");
  });

  it("marks the bubble canceled on run_canceled and ignores chunks after it", () => {
    let s = applyEvents(
      start(),
      [created(1, "a1"), chunk(2, 0, "Hal"), runEvent("run_canceled", { ...at, seq: 3 })],
      0,
    );
    s = applyEvent(s, chunk(null, 3, "f more"), 0);
    expect(s.messages.get("a1")).toMatchObject({ state: "canceled", text: "Hal" });
    expect(s.runs.get("r1")!.indicator.phase).toBe("canceled");
  });

  it("turns stuck after silence, recovers on a heartbeat, and stalls without text", () => {
    let s = applyEvents(start(), [runEvent("run_started", { ...at, seq: 1 })], 1_000);
    expect(tick(s, 5_000)).toBe(s);
    s = tick(s, 11_000);
    expect(s.runs.get("r1")!.indicator.stuck).toBe("silent");
    s = applyEvent(s, envelope("run_heartbeat", { ...at, payload: { at: "2026-01-01T00:00:12.000Z" } }), 12_000);
    expect(s.runs.get("r1")!.indicator.stuck).toBeNull();
    expect(s.lastHeartbeatAt).toBe(12_000);
    s = touchActiveRuns(s, 20_000);
    expect(tick(s, 29_000).runs.get("r1")!.indicator.stuck).toBeNull();
    s = applyEvent(s, envelope("run_heartbeat", { ...at, payload: { at: "2026-01-01T00:00:12.000Z" } }), 28_000);
    expect(tick(s, 31_000).runs.get("r1")!.indicator.stuck).toBe("stalled");
    s = applyEvents(s, [created(2, "a1"), chunk(3, 0, "Hi")], 31_000);
    expect(tick(s, 35_000).runs.get("r1")!.indicator.stuck).toBeNull();
  });

  it("takes the message state stream_complete carries when a run ends early", () => {
    const s = applyEvents(
      start(),
      [
        created(1, "a1"),
        chunk(2, 0, "Hal"),
        envelope("stream_complete", { ...at, node_id: "a1", seq: 3, text: "Half", payload: { state: "stopped" } }),
      ],
      0,
    );
    expect(s.messages.get("a1")).toMatchObject({ state: "canceled", text: "Half" });
  });

  it("names the active node from message_created, explicitly", () => {
    const s = applyEvents(start(), [runEvent("run_started", { ...at, seq: 1 }), created(2, "a1")], 0);
    expect(s.runs.get("r1")!.activeNodeId).toBe("a1");
  });

  it("drops the nodes a retry supersedes, and late events for them do not bring them back", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hal")], 0);
    s = applyEvent(
      s,
      runEvent("run_queued", { turn_id: "t1", run_id: "r2", seq: 4 }, { supersededNodeIds: ["a1"] }),
      0,
    );
    s = applyEvents(s, [chunk(3, 3, "f"), chunk(null, 0, "Half")], 0);
    expect(orderedMessages(s)).toEqual([]);
  });

  it("hides a failed reply once its retry exists", () => {
    let s = applySnapshot(
      start(),
      page(
        [
          transcriptMessage({ id: "u1", role: "user", text: "hi" }),
          transcriptMessage({ id: "a1", runId: "r1", state: "errored", text: "" }),
        ],
        5,
      ),
    );
    expect(s.runs.get("r1")!.state).toBe("failed");
    s = applyEvent(s, runEvent("run_queued", { turn_id: "t1", run_id: "r2", seq: 6 }, {}, { retryOfId: "r1" }), 0);
    expect([...supersededRuns(s)]).toEqual(["r1"]);
    expect(activeRun(s)!.id).toBe("r2");
  });
});

describe("event kinds", () => {
  /** An envelope of a kind this build does not know, as a newer server could send it. */
  const newer = (seq: number) =>
    ({
      ...envelope("conversation_updated", { turn_id: "t1", run_id: "r1", node_id: "a1", seq, payload: { title: "" } }),
      kind: "step_paused",
      payload: { stepId: "s1", reason: { code: "quota" } },
    }) as unknown as EventEnvelope;

  it("ignores a kind it does not know (a newer server's) and applies the events around it", () => {
    const s = applyEvents(start(), [created(1, "a1"), newer(2), chunk(3, 0, "Hi")], 0);
    expect(texts(s)).toEqual(["assistant:Hi"]);
    expect(s.messages.get("a1")!.state).toBe("streaming");
    expect(s.cursor).toBe(3);
    expect(s.resync).toBe(false);
    // Its seq counts as seen: a replay of it is a duplicate like any other.
    expect(applyEvent(s, newer(2), 0).dropped).toBe(s.dropped + 1);
  });

  it("leaves the transcript as it was when only unknown kinds arrive", () => {
    const before = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hi")], 0);
    const after = applyEvents(before, [newer(3), newer(4)], 0);
    expect(after.messages).toEqual(before.messages);
    expect(after.order).toEqual(before.order);
    expect(after.runs).toEqual(before.runs);
  });
});

describe("snapshots", () => {
  it("keeps live text that is ahead of the page, and takes a terminal page message outright", () => {
    let s = applyEvents(start(), [created(1, "a1"), chunk(2, 0, "Hello, world")], 0);
    s = applySnapshot(s, page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", text: "Hello" })], 1));
    expect(s.messages.get("a1")!.text).toBe("Hello, world");
    s = applySnapshot(s, page([transcriptMessage({ id: "a1", runId: "r1", state: "completed", text: "Final" })], 9));
    expect(s.messages.get("a1")).toMatchObject({ text: "Final", state: "completed" });
  });

  it("removes messages the server no longer has, but not ones newer than the page", () => {
    let s = applyEvents(start(), [created(1, "a1"), created(2, "a2"), created(8, "a3")], 0);
    s = applySnapshot(s, page([transcriptMessage({ id: "a2", runId: "r1" })], 5));
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["a2", "a3"]);
  });

  it("merges an older page without touching the cursor", () => {
    let s = applySnapshot(start(), page([transcriptMessage({ id: "u2", turnId: "t2", role: "user" })], 7, "c1"));
    s = applySnapshot(s, page([transcriptMessage({ id: "u1", turnId: "t1", role: "user" })], 3), { older: true });
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1", "u2"]);
    expect(s.cursor).toBe(7);
    expect(s.olderCursor).toBeNull();
  });
});

describe("optimistic sends", () => {
  const userMessage = (id: string, turnId: string, text: string) =>
    transcriptMessage({ id, turnId, role: "user", text, state: "completed" });
  /** The server's message_created for the send "hello" (clientMessageId c1). */
  const sentHello = envelope("message_created", {
    turn_id: "t1",
    node_id: "u1",
    seq: 1,
    payload: { clientMessageId: "c1", message: userMessage("u1", "t1", "hello") },
  });

  it("shows rapid sends in send order and replaces each with the server's message", () => {
    let s = start();
    for (const n of [1, 2, 3]) s = addLocalMessage(s, { clientMessageId: `c${n}`, text: `m${n}`, now: 0 });
    expect(texts(s)).toEqual(["user:m1", "user:m2", "user:m3"]);
    s = setLocalStatus(s, "c1", "sending");
    s = acknowledgeLocal(
      s,
      "c1",
      { message: userMessage("u1", "t1", "m1"), run: runSummary({ id: "r1", turnId: "t1" }) },
      0,
    );
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1", "local:c2", "local:c3"]);
    expect(s.runs.get("r1")!.indicator.phase).toBe("queued");
  });

  it("matches a streamed user message to its bubble by clientMessageId before the POST answers", () => {
    let s = addLocalMessage(start(), { clientMessageId: "c1", text: "hello", now: 0 });
    s = applyEvent(s, sentHello, 0);
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1"]);
    s = acknowledgeLocal(
      s,
      "c1",
      { message: userMessage("u1", "t1", "hello"), run: runSummary({ id: "r1", turnId: "t1" }) },
      0,
    );
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1"]);
  });

  it("shows a reply that streams before its send is confirmed under that send, then in its turn", () => {
    let s = addLocalMessage(start(), { clientMessageId: "c1", text: "hello", now: 0 });
    s = applyEvent(s, chunk(null, 0, "Hi"), 0);
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["local:c1", "a1"]);
    s = applyEvents(s, [sentHello, created(2, "a1", { turnId: "t1" })], 0);
    expect(orderedMessages(s).map((m) => [m.id, m.text])).toEqual([
      ["u1", "hello"],
      ["a1", "Hi"],
    ]);
  });

  it("matches by text only the bubble being sent", () => {
    let s = addLocalMessage(start(), { clientMessageId: "c1", text: "same ", now: 0 });
    s = addLocalMessage(s, { clientMessageId: "c2", text: "same", now: 0 });
    s = setLocalStatus(s, "c1", "sending");
    s = applyEvent(
      s,
      envelope("message_created", {
        turn_id: "t1",
        node_id: "u1",
        seq: 1,
        payload: { message: userMessage("u1", "t1", "same") },
      }),
      0,
    );
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1", "local:c2"]);
  });

  it("moves a failed bubble to the end when it is sent again", () => {
    let s = addLocalMessage(start(), { clientMessageId: "c1", text: "a", now: 0 });
    s = addLocalMessage(s, { clientMessageId: "c2", text: "b", now: 0 });
    s = setLocalStatus(s, "c1", "failed", "Network error");
    expect(s.messages.get("local:c1")!.local).toMatchObject({ status: "failed", error: "Network error" });
    s = setLocalStatus(s, "c1", "sending");
    expect(texts(s)).toEqual(["user:b", "user:a"]);
  });
});

describe("approvals, directive output and waiting runs", () => {
  const at = { turn_id: "t1", run_id: "r1" };
  const approval = { id: "d1", command: "rm -rf build", cwd: "/work/app", reasons: ["deletes files"] };
  const directive = { id: "d1", territory: "laptop" };
  const bash = toolPart({ id: "task1", name: "bash", args: { command: "rm -rf build" }, directive });
  const tool = (s: ChatState) => s.messages.get("a1")!.tools[0]!;
  const waiting = (s: ChatState) => s.runs.get("r1")!.indicator.waiting;

  /** A run that called bash: the card is running, as the tool_call event left it. */
  const calling = () =>
    applyEvents(
      start(),
      [
        runEvent("run_started", { ...at, seq: 1 }),
        created(2, "a1"),
        envelope("tool_call", { ...at, node_id: "task1", seq: 3, payload: { messageId: "a1", part: bash } }),
      ],
      0,
    );
  const requested = (seq: number | null) =>
    envelope("approval_requested", { ...at, node_id: "task1", seq, payload: { approval, directiveId: "d1" } });
  const resolved = (seq: number | null, decision: "approved" | "rejected" | "withdrawn" = "approved") =>
    envelope("approval_resolved", {
      ...at,
      node_id: "task1",
      seq,
      payload: { approvalId: "d1", directiveId: "d1", decision },
    });
  const output = (seq: number | null, stream: "stdout" | "stderr", n: number, text: string) =>
    envelope("directive_output", {
      ...at,
      node_id: "task1",
      seq,
      text,
      payload: { directiveId: "d1", stream, seq: n },
    });
  const waitingStep = (seq: number, kind: "await_directive" | "await_approval" = "await_directive") =>
    envelope("run_waiting", {
      ...at,
      node_id: "task1",
      seq,
      payload: { step: { id: "s2", kind, waitKey: "directive:d1", input: {} } },
    });
  const shown = (s: ChatState) =>
    s.outputs
      .get("task1")!
      .chunks.map((c) => `${c.stream}:${c.text}`)
      .join("|");

  it("puts the request on its card and makes the run wait for a person, then clears it when answered", () => {
    let s = applyEvents(calling(), [requested(4), waitingStep(5)], 1000);
    expect(tool(s).approval).toEqual(approval);
    expect(waiting(s)).toEqual({ for: "approval" });
    // A person can take their time: no stuck warning however long the silence.
    s = tick(s, 3_600_000);
    expect(s.runs.get("r1")!.indicator.stuck).toBeNull();
    s = applyEvent(s, resolved(6), 3_600_000);
    expect(tool(s).approval).toBeUndefined();
    expect(tool(s).decided).toEqual({ id: "d1", decision: "approved" });
    // Approved: the run now waits on the command, on the card's territory.
    expect(waiting(s)).toEqual({ for: "directive", territory: "laptop" });
    // A replay of the request (a reconnect's duplicate or a late copy) never brings the buttons back.
    s = applyEvents(s, [requested(4), requested(null)], 3_600_000);
    expect(tool(s).approval).toBeUndefined();
  });

  it("clears the request when the server answers the POST, before its approval_resolved event", () => {
    let s = applyEvents(calling(), [requested(4), waitingStep(5)], 0);
    s = resolveApproval(s, "task1", "d1", "rejected", 0);
    expect(tool(s).approval).toBeUndefined();
    expect(waiting(s)).toEqual({ for: "other" });
    const after = applyEvent(s, resolved(6, "rejected"), 0);
    expect(tool(after).approval).toBeUndefined();
    expect(tool(after).decided).toEqual({ id: "d1", decision: "rejected" });
  });

  it("withdraws the request when its run ends, and a result ends it too", () => {
    const s = applyEvents(calling(), [requested(4)], 0);
    expect(tool(applyEvent(s, runEvent("run_canceled", { ...at, seq: 5 }), 0)).approval).toBeUndefined();
    const result = { ...bash, state: "error" as const, error: "Rejected: deletes files" };
    const done = applyEvent(
      s,
      envelope("tool_result", { ...at, node_id: "task1", seq: 5, payload: { messageId: "a1", part: result } }),
      0,
    );
    expect(tool(done).approval).toBeUndefined();
    expect(waiting(done)).toBeNull();
  });

  it("ends a stopped run's unfinished call as stopped, and a failed run's as failed with the run's error", () => {
    let s = applyEvents(
      calling(),
      [output(4, "stdout", 0, "line 1\n"), runEvent("run_canceled", { ...at, seq: 5 })],
      0,
    );
    expect(tool(s)).toMatchObject({ state: "error", stopped: true });
    expect(tool(s).error).toBeUndefined();
    // A late result still wins: the call did finish.
    const done = { ...bash, state: "completed" as const, result: "ok" };
    s = applyEvent(
      s,
      envelope("tool_result", { ...at, node_id: "task1", seq: 6, payload: { messageId: "a1", part: done } }),
      0,
    );
    expect(tool(s).state).toBe("completed");

    const error = { code: "internal_error" as const, message: "The database went away." };
    const failed = applyEvent(calling(), runEvent("run_failed", { ...at, seq: 5 }, { error }), 0);
    expect(tool(failed)).toMatchObject({ state: "error", error: "The database went away." });
    expect(tool(failed).stopped).toBeUndefined();
  });

  it("asks for the page when a request names a card it does not hold", () => {
    const s = applyEvent(start(), requested(4), 0);
    expect(s.resync).toBe(true);
  });

  it("shows a request after a reload from the page alone, and the run waits for it", () => {
    const waitingPart = { ...bash, approval };
    let s = applySnapshot(
      start(),
      page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", parts: [waitingPart] })], 9),
      {
        runs: [runSummary({ id: "r1", state: "running", activeNodeId: "a1" })],
        now: 0,
      },
    );
    expect(tool(s).approval).toEqual(approval);
    expect(waiting(s)).toEqual({ for: "approval" });
    expect(tick(s, 600_000).runs.get("r1")!.indicator.stuck).toBeNull();
    // A page made after the answer no longer has it: the card stops asking.
    s = applySnapshot(s, page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", parts: [bash] })], 12));
    expect(tool(s).approval).toBeUndefined();
  });

  it("keeps a request that arrived after the page was made", () => {
    let s = applyEvents(calling(), [requested(8)], 0);
    s = applySnapshot(s, page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", parts: [bash] })], 6));
    expect(tool(s).approval).toEqual(approval);
  });

  it("appends output per stream by seq, in arrival order, dropping duplicates and overlaps", () => {
    const s = applyEvents(
      calling(),
      [
        output(4, "stdout", 0, "building\n"),
        output(5, "stderr", 0, "warning: old\n"),
        output(null, "stdout", 1, "done\n"),
        // The persisted copy of the live chunk above, a replayed one, and a stale stderr chunk.
        output(6, "stdout", 1, "done\n"),
        output(4, "stdout", 0, "building\n"),
        output(7, "stderr", 0, "warning: old\n"),
        output(8, "stderr", 1, "error: failed\n"),
      ],
      0,
    );
    expect(shown(s)).toBe("stdout:building\n|stderr:warning: old\n|stdout:done\n|stderr:error: failed\n");
    expect(s.outputs.get("task1")!.lastSeq).toEqual({ stdout: 1, stderr: 1 });
    // The output is the command's, not the run's progress: the run still waits on it.
    expect(waiting(s)).toEqual({ for: "directive", territory: "laptop" });
  });

  it("merges the output fetched on a reload mid-run with the events around it", () => {
    // Events after the page's cursor arrived before the fetch answered: stdout 3, stderr 2.
    let s = applyEvents(calling(), [output(10, "stdout", 3, "three\n"), output(11, "stderr", 2, "e2\n")], 0);
    s = applyDirectiveOutput(s, "task1", {
      id: "d1",
      state: "running",
      exitCode: null,
      stdout: "zero\none\ntwo\nthree\n",
      stderr: "e0\ne1\n",
      stdoutSeq: 3,
      stderrSeq: 1,
      truncated: false,
    });
    expect(shown(s)).toBe("stdout:zero\none\ntwo\nthree\n|stderr:e0\ne1\n|stderr:e2\n");
    // Events continue above the fetched seqs; ones it already holds add nothing.
    s = applyEvents(s, [output(12, "stdout", 2, "two\n"), output(13, "stdout", 4, "four\n")], 0);
    expect(shown(s)).toBe("stdout:zero\none\ntwo\nthree\n|stderr:e0\ne1\n|stderr:e2\n|stdout:four\n");
  });

  it("records how the directive ended; a late state never revives it", () => {
    const state = (seq: number, st: "running" | "succeeded" | "timed_out", exitCode: number | null) =>
      envelope("directive_state", {
        ...at,
        node_id: "task1",
        seq,
        payload: { directiveId: "d1", state: st, exitCode, outputTruncated: st === "timed_out" },
      });
    const s = applyEvents(
      calling(),
      [state(4, "running", null), state(6, "timed_out", 124), state(5, "running", null)],
      0,
    );
    expect(s.outputs.get("task1")).toMatchObject({ state: "timed_out", exitCode: 124, truncated: true });
  });

  it("waits on the command's territory until the run continues with the tool's result", () => {
    let s = applyEvents(calling(), [waitingStep(4)], 0);
    expect(waiting(s)).toEqual({ for: "directive", territory: "laptop" });
    expect(tick(s, 600_000).runs.get("r1")!.indicator.stuck).toBeNull();
    // The wait step's own start (state waiting) is not the run continuing.
    const stepEvent = (seq: number, state: "waiting" | "running", kind: "await_directive" | "tool_call") =>
      envelope("step_started", { ...at, seq, payload: { stepId: `s${seq}`, kind, ordinal: seq, attempt: 1, state } });
    s = applyEvent(s, stepEvent(5, "waiting", "await_directive"), 0);
    expect(waiting(s)).not.toBeNull();
    s = applyEvent(s, stepEvent(6, "running", "tool_call"), 700_000);
    expect(waiting(s)).toBeNull();
    expect(tick(s, 700_000 + 10_000).runs.get("r1")!.indicator.stuck).toBe("silent");
  });

  it("says approval for an await_approval step, and anything but a result or a new call keeps the wait", () => {
    let s = applyEvents(calling(), [waitingStep(4, "await_approval")], 0);
    expect(waiting(s)).toEqual({ for: "approval" });
    // An update of the card it waits on is not the run moving on.
    s = applyEvent(
      s,
      envelope("tool_call", { ...at, node_id: "task1", seq: 5, payload: { messageId: "a1", part: bash } }),
      0,
    );
    expect(waiting(s)).toEqual({ for: "approval" });
    s = applyEvent(s, chunk(6, 0, "Done."), 0);
    expect(waiting(s)).toBeNull();
  });
});

describe("hook warnings", () => {
  const at = { turn_id: "t1", run_id: "r1" };
  const payload = {
    hook: "before_inference" as const,
    stepId: "s1",
    message: "The before_inference hook failed with exit code 3; the turn went on without it.",
    stderr: "no context today\n",
  };
  const warned = (seq: number | null, fields: Partial<typeof payload> = {}) =>
    envelope("hook_warning", { ...at, node_id: null, seq, payload: { ...payload, ...fields } });
  const fromPage = { ...payload, runId: "r1", nodeId: null };

  it("keeps each warning once by run, whether the stream or a page said it", () => {
    let s = applyEvents(start(), [warned(3), warned(null), warned(3)], 0);
    expect(s.hookWarnings.get("r1")).toEqual([fromPage]);
    // A reload: the page rebuilds it from the hook's step, below its cursor.
    s = applySnapshot(s, { ...page([transcriptMessage({ id: "a1", runId: "r1" })], 9), hookWarnings: [fromPage] });
    expect(s.hookWarnings.get("r1")).toEqual([fromPage]);
    // Another model call of the run: the same hook's next step warns again.
    s = applyEvent(s, warned(10, { stepId: "s2" }), 0);
    expect(s.hookWarnings.get("r1")!.map((w) => w.stepId)).toEqual(["s1", "s2"]);
  });

  it("comes back after a reload from the page alone", () => {
    const s = applySnapshot(start(), {
      ...page([transcriptMessage({ id: "a1", runId: "r1" })], 9),
      hookWarnings: [fromPage, { ...fromPage, runId: "r0", stepId: "s0" }],
    });
    expect(s.hookWarnings.get("r1")).toEqual([fromPage]);
    expect(s.hookWarnings.get("r0")).toHaveLength(1);
  });
});
