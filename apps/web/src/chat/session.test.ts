import type { ConversationDetail, EventEnvelope, MessagesPage, PostMessageResult, RunSummary } from "@cybros/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../lib/api";
import type { ChatApi, RunDetail } from "./api";
import { orderedMessages } from "./reconciler";
import { ChatSession, type ChatSessionOptions } from "./session";
import { CONVERSATION, envelope, page, runSummary, toolPart, transcriptMessage } from "./testing";
import type { TransportOptions } from "./transport";

function detail(activeRun: RunSummary | null = null): ConversationDetail {
  return {
    conversation: {
      id: CONVERSATION,
      title: "t",
      agentProgramId: "a",
      agentName: "Assistant",
      archivedAt: null,
      lastMessageAt: "2026-01-01T00:00:00.000Z",
      createdAt: "2026-01-01T00:00:00.000Z",
    },
    activeRun,
    modelWarning: null,
  };
}

function fakeApi(overrides: Partial<ChatApi> = {}) {
  let turn = 0;
  const api: ChatApi = {
    messages: vi.fn(async (): Promise<MessagesPage> => page([], 0)),
    detail: vi.fn(async () => detail()),
    postMessage: vi.fn(async (_id, input): Promise<PostMessageResult> => {
      turn++;
      return {
        message: transcriptMessage({
          id: `u${turn}`,
          turnId: `t${turn}`,
          role: "user",
          text: input.content,
          runId: `r${turn}`,
        }),
        run: runSummary({ id: `r${turn}`, turnId: `t${turn}` }),
      };
    }),
    run: vi.fn(async (id): Promise<RunDetail> => ({ run: runSummary({ id }), llmCalls: [], toolCalls: [] })),
    cancel: vi.fn(async (id) => runSummary({ id, state: "canceled" })),
    retry: vi.fn(async (id) => runSummary({ id: `${id}-retry`, retryOfId: id })),
    answerApproval: vi.fn(async () => ({})),
    directiveOutput: vi.fn(async (id) => ({
      id,
      state: "running" as const,
      exitCode: null,
      stdout: "",
      stderr: "",
      stdoutSeq: -1,
      stderrSeq: -1,
      truncated: false,
    })),
    ...overrides,
  };
  return api;
}

const sessions: ChatSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});

function open(api: ChatApi, started?: ChatSessionOptions["started"], extra: Partial<ChatSessionOptions> = {}) {
  let transportOptions: TransportOptions | null = null;
  const transport = {
    start: vi.fn(),
    stop: vi.fn(),
    advanceCursor: vi.fn(),
    inject: vi.fn((events: EventEnvelope[]) => transportOptions!.onEvents(events)),
    dropConnection: vi.fn(),
    reconnectNow: vi.fn(),
    snapshot: null as never,
  };
  const session = new ChatSession({
    conversationId: CONVERSATION,
    api,
    createTransport: (options) => {
      transportOptions = options;
      return transport;
    },
    scheduleFlush: (flush) => queueMicrotask(flush),
    network: { online: () => true, subscribe: () => () => {} },
    log: { debug() {}, warn() {} },
    started,
    ...extra,
  });
  sessions.push(session);
  return {
    session,
    transport,
    options: () => transportOptions!,
    push: async (events: EventEnvelope[]) => {
      transportOptions!.onEvents(events);
      await Promise.resolve();
      await Promise.resolve();
    },
  };
}

describe("ChatSession", () => {
  it("loads the page, then opens the stream from the page's cursor", async () => {
    const api = fakeApi({
      messages: vi.fn(async () => page([transcriptMessage({ id: "u1", role: "user", text: "hi" })], 41)),
      detail: vi.fn(async () => detail(runSummary({ id: "r1", state: "running" }))),
    });
    const { session, options } = open(api);
    await session.start();
    expect(options().cursor).toBe(41);
    expect(session.getSnapshot()).toMatchObject({ loading: false, loadError: null });
    expect(session.getSnapshot().chat.runs.get("r1")!.state).toBe("running");
  });

  it("shows a load error and recovers on load()", async () => {
    let fail = true;
    const api = fakeApi({
      messages: vi.fn(async () => {
        if (fail) throw new ApiError(0, "network_error", "Could not reach the server.");
        return page([], 3);
      }),
    });
    const { session, options } = open(api);
    await session.start();
    expect(session.getSnapshot().loadError).toBe("Could not reach the server.");
    fail = false;
    await session.load();
    expect(session.getSnapshot().loadError).toBeNull();
    expect(options().cursor).toBe(3);
  });

  it("applies streamed events in one batch per frame", async () => {
    const { session, push } = open(fakeApi());
    await session.start();
    const listener = vi.fn();
    session.subscribe(listener);
    await push([
      envelope("message_created", {
        turn_id: "t1",
        run_id: "r1",
        node_id: "a1",
        seq: 1,
        payload: { message: transcriptMessage({ id: "a1", runId: "r1", state: "pending" }) },
      }),
      envelope("stream_chunk", {
        turn_id: "t1",
        run_id: "r1",
        node_id: "a1",
        seq: 2,
        text: "Hi",
        payload: { offset: 0 },
      }),
      envelope("stream_chunk", {
        turn_id: "t1",
        run_id: "r1",
        node_id: "a1",
        seq: null,
        text: "!",
        payload: { offset: 2 },
      }),
    ]);
    expect(session.getSnapshot().chat.messages.get("a1")!.text).toBe("Hi!");
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("ignores an event kind it does not know, as a newer server may send, and applies the rest", async () => {
    const { session, push } = open(fakeApi());
    await session.start();
    const at = { turn_id: "t1", run_id: "r1", node_id: "a1" };
    await push([
      envelope("message_created", {
        ...at,
        seq: 1,
        payload: { message: transcriptMessage({ id: "a1", runId: "r1", state: "pending" }) },
      }),
      {
        ...at,
        conversation_id: CONVERSATION,
        event_id: "e2",
        seq: 2,
        kind: "hook_warned",
        payload: { hook: "x" },
        created_at: "2026-01-01T00:00:00.000Z",
      } as unknown as EventEnvelope,
      envelope("stream_chunk", { ...at, seq: 3, text: "Hi", payload: { offset: 0 } }),
    ]);
    const chat = session.getSnapshot().chat;
    expect(chat.messages.get("a1")!.text).toBe("Hi");
    expect(chat.cursor).toBe(3);
    expect(session.getSnapshot().loadError).toBeNull();
  });

  it("refetches the page when a gap shows up, and fills it", async () => {
    const pages = [
      page([], 0),
      page([transcriptMessage({ id: "a1", runId: "r1", state: "streaming", text: "Hello, world" })], 5),
    ];
    const api = fakeApi({ messages: vi.fn(async () => pages.shift() ?? page([], 5)) });
    const { session, push } = open(api);
    await session.start();
    await push([
      envelope("stream_chunk", {
        turn_id: "t1",
        run_id: "r1",
        node_id: "a1",
        seq: 6,
        text: "!",
        payload: { offset: 12 },
      }),
    ]);
    expect(session.getSnapshot().chat.resync).toBe(true);
    await vi.waitFor(() => expect(session.getSnapshot().chat.messages.get("a1")!.text).toBe("Hello, world!"), {
      timeout: 3000,
    });
    expect(api.messages).toHaveBeenCalledTimes(2);
  });

  it("sends rapid messages one after another, in order, each replaced by the server's", async () => {
    const order: string[] = [];
    const base = fakeApi();
    const api = fakeApi({
      postMessage: vi.fn(async (id, input) => {
        order.push(`start ${input.content}`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`end ${input.content}`);
        return base.postMessage(id, input);
      }),
    });
    const { session } = open(api);
    await session.start();
    for (const text of ["one", "two", "three"]) session.send(text);
    expect(orderedMessages(session.getSnapshot().chat).map((m) => m.text)).toEqual(["one", "two", "three"]);
    await vi.waitFor(() => expect(order).toHaveLength(6));
    expect(order).toEqual(["start one", "end one", "start two", "end two", "start three", "end three"]);
    const messages = orderedMessages(session.getSnapshot().chat);
    expect(messages.map((m) => [m.id, m.text])).toEqual([
      ["u1", "one"],
      ["u2", "two"],
      ["u3", "three"],
    ]);
    expect([...session.getSnapshot().chat.runs.keys()]).toEqual(["r1", "r2", "r3"]);
  });

  it("retries a send after a network error with the same clientMessageId, and marks a rejected one failed", async () => {
    const base = fakeApi();
    let calls = 0;
    const ids: string[] = [];
    const api = fakeApi({
      postMessage: vi.fn(async (id, input) => {
        calls++;
        ids.push(input.clientMessageId);
        if (calls === 1) throw new ApiError(0, "network_error", "offline");
        if (input.content === "bad") throw new ApiError(422, "invalid", "content: is too long");
        return base.postMessage(id, input);
      }),
    });
    const { session } = open(api);
    await session.start();
    session.send("good");
    session.send("bad");
    await vi.waitFor(() => expect(calls).toBe(3), { timeout: 3000 });
    expect(ids[0]).toBe(ids[1]);
    await vi.waitFor(() =>
      expect(orderedMessages(session.getSnapshot().chat).map((m) => m.local?.status ?? "sent")).toEqual([
        "sent",
        "failed",
      ]),
    );
    const failed = orderedMessages(session.getSnapshot().chat)[1]!;
    expect(failed.local!.error).toBe("content: is too long");
    session.discard(failed.clientMessageId!);
    expect(orderedMessages(session.getSnapshot().chat)).toHaveLength(1);
  });

  it("stops and retries runs through the API and applies the answers", async () => {
    const api = fakeApi({ detail: vi.fn(async () => detail(runSummary({ id: "r1", state: "running" }))) });
    const { session } = open(api);
    await session.start();
    await session.stop();
    expect(api.cancel).toHaveBeenCalledWith("r1");
    expect(session.getSnapshot().chat.runs.get("r1")!.state).toBe("canceled");
    await session.retry("r1");
    expect(session.getSnapshot().chat.runs.get("r1-retry")).toMatchObject({ retryOfId: "r1", state: "queued" });
    expect(session.getSnapshot().pending.size).toBe(0);
  });

  it("restart holds the run busy from the stop until its retry is queued, and retries a run that ended meanwhile", async () => {
    let stopped!: () => void;
    const api = fakeApi({
      detail: vi.fn(async () => detail(runSummary({ id: "r1", state: "running" }))),
      cancel: vi.fn(
        (id: string) =>
          new Promise<RunSummary>((resolve) => {
            stopped = () => resolve(runSummary({ id, state: "canceled" }));
          }),
      ),
    });
    const { session } = open(api);
    await session.start();
    const restarting = session.restart("r1");
    expect(session.getSnapshot().pending.has("r1")).toBe(true);
    await vi.waitFor(() => expect(api.cancel).toHaveBeenCalledWith("r1"));
    expect(api.retry).not.toHaveBeenCalled();
    stopped();
    await restarting;
    expect(api.retry).toHaveBeenCalledWith("r1");
    expect(session.getSnapshot().chat.runs.get("r1-retry")).toMatchObject({ retryOfId: "r1", state: "queued" });
    expect(session.getSnapshot().pending.size).toBe(0);

    vi.mocked(api.cancel).mockRejectedValueOnce(new ApiError(409, "run_not_active", "The run is already failed"));
    await session.restart("r2");
    expect(api.retry).toHaveBeenLastCalledWith("r2");
    vi.mocked(api.cancel).mockRejectedValueOnce(new ApiError(502, "unreachable", "Network down"));
    await expect(session.restart("r3")).rejects.toThrow("Network down");
    expect(api.retry).not.toHaveBeenCalledWith("r3");
  });

  it("asks for the run of a turn left without a reply, so a failure before any text shows", async () => {
    const api = fakeApi({
      messages: vi.fn(async () =>
        page([transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "hi", runId: "r1" })], 4),
      ),
      run: vi.fn(async (id: string) => ({
        run: runSummary({ id, state: "failed", error: { code: "no_provider_for_model", message: "none" } }),
        llmCalls: [],
        toolCalls: [],
      })),
    });
    const { session } = open(api);
    await session.start();
    expect(api.run).toHaveBeenCalledWith("r1");
    expect(session.getSnapshot().chat.runs.get("r1")!.state).toBe("failed");
  });
});

describe("a conversation started by its first message", () => {
  it("shows the message and the queued reply at once, with no loading state, and keeps them after the load", async () => {
    const message = transcriptMessage({ id: "u1", role: "user", text: "Hello", runId: "r1" });
    const run = runSummary({ id: "r1" });
    let answer!: (value: MessagesPage) => void;
    const api = fakeApi({
      messages: vi.fn(() => new Promise<MessagesPage>((resolve) => (answer = resolve))),
      detail: vi.fn(async () => detail(run)),
    });
    const { session } = open(api, { message, run, clientMessageId: "c1" });

    const shown = () => orderedMessages(session.getSnapshot().chat).map((m) => [m.role, m.text]);
    expect(session.getSnapshot().loading).toBe(false);
    expect(shown()).toEqual([["user", "Hello"]]);
    expect(session.getSnapshot().chat.runs.get("r1")?.state).toBe("queued");

    const loading = session.start();
    expect(session.getSnapshot().loading).toBe(false);
    answer(page([message], 2));
    await loading;
    expect(shown()).toEqual([["user", "Hello"]]);
    expect(session.getSnapshot().loading).toBe(false);
  });

  it("says the workspace may have changed when a workspace_set call ends, and only then", async () => {
    const onWorkspaceChanged = vi.fn();
    const { session, push } = open(fakeApi(), undefined, { onWorkspaceChanged });
    await session.start();
    const result = (seq: number, name: string) =>
      envelope("tool_result", {
        turn_id: "t1",
        run_id: "r1",
        node_id: `task${seq}`,
        seq,
        payload: { messageId: "a1", part: toolPart({ id: `task${seq}`, name, state: "completed" }) },
      });
    await push([
      result(1, "bash"),
      envelope("tool_call", {
        turn_id: "t1",
        run_id: "r1",
        node_id: "task2",
        seq: 2,
        payload: { messageId: "a1", part: toolPart({ id: "task2", name: "workspace_set" }) },
      }),
    ]);
    expect(onWorkspaceChanged).not.toHaveBeenCalled();
    await push([result(3, "workspace_set")]);
    expect(onWorkspaceChanged).toHaveBeenCalledTimes(1);
  });

  it("says a machine was used when a call that ran as a directive ends: its first may have made a scratch workspace", async () => {
    const onMachineUsed = vi.fn();
    const onWorkspaceChanged = vi.fn();
    const { session, push } = open(fakeApi(), undefined, { onMachineUsed, onWorkspaceChanged });
    await session.start();
    const result = (seq: number, name: string, onMachine: boolean) =>
      envelope("tool_result", {
        turn_id: "t1",
        run_id: "r1",
        node_id: `task${seq}`,
        seq,
        payload: {
          messageId: "a1",
          part: toolPart({
            id: `task${seq}`,
            name,
            state: "completed",
            ...(onMachine ? { directive: { id: `d${seq}`, territory: "This computer" } } : {}),
          }),
        },
      });
    await push([result(1, "memory_search", false)]);
    expect(onMachineUsed).not.toHaveBeenCalled();
    await push([result(2, "bash", true)]);
    expect(onMachineUsed).toHaveBeenCalledTimes(1);
    // workspace_set says more: the workspace changed.
    await push([result(3, "workspace_set", true)]);
    expect(onMachineUsed).toHaveBeenCalledTimes(1);
    expect(onWorkspaceChanged).toHaveBeenCalledTimes(1);
  });
});
