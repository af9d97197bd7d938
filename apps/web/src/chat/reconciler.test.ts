import type { EventEnvelope, RunError, ToolCallPart as ToolPart } from "@cybros/protocol";
import { describe, expect, it } from "vitest";
import {
  acknowledgeLocal,
  activeRun,
  addLocalMessage,
  applyEvent,
  applyEvents,
  applySnapshot,
  type ChatState,
  emptyChatState,
  isStreamingMessage,
  orderedMessages,
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
    s = applyEvent(
      s,
      envelope("message_created", {
        turn_id: "t1",
        node_id: "u1",
        seq: 1,
        payload: { clientMessageId: "c1", message: userMessage("u1", "t1", "hello") },
      }),
      0,
    );
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1"]);
    s = acknowledgeLocal(
      s,
      "c1",
      { message: userMessage("u1", "t1", "hello"), run: runSummary({ id: "r1", turnId: "t1" }) },
      0,
    );
    expect(orderedMessages(s).map((m) => m.id)).toEqual(["u1"]);
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
