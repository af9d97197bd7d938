import type { DirectiveOutput, EventEnvelope, MessagesPage, RunSummary, ToolCallPart } from "@cybros/protocol";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConversationView } from "./ConversationView";
import { CONVERSATION, envelope, page, runEvent, runSummary, transcriptMessage } from "./testing";

/** A fake API server behind `fetch`: pages, detail, an SSE stream the test writes to, and the write routes. */
function fakeServer(initial: MessagesPage, activeRun: RunSummary | null = null) {
  const encoder = new TextEncoder();
  let stream: ReadableStreamDefaultController<Uint8Array> | null = null;
  const posts: { path: string; body: unknown }[] = [];
  const outputs = new Map<string, DirectiveOutput>();
  const answers = { status: 200 };
  let turn = 0;
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const path = url.pathname;
    const method = init?.method ?? "GET";
    if (method === "POST") {
      const body = init?.body ? JSON.parse(String(init.body)) : null;
      posts.push({ path, body });
      if (path.endsWith("/messages")) {
        turn++;
        return json(
          {
            message: transcriptMessage({
              id: `u${turn}`,
              turnId: `t${turn}`,
              role: "user",
              text: body.content,
              runId: `r${turn}`,
            }),
            run: runSummary({ id: `r${turn}`, turnId: `t${turn}` }),
          },
          202,
        );
      }
      if (path.startsWith("/api/approvals/")) {
        return answers.status === 200
          ? json({ ok: true })
          : json({ error: { code: "conflict", message: "Already answered" } }, answers.status);
      }
      const run = path.split("/")[3]!;
      if (path.endsWith("/cancellation")) return json(runSummary({ id: run, state: "canceled" }));
      if (path.endsWith("/retry")) return json(runSummary({ id: `${run}b`, retryOfId: run }), 202);
    }
    if (path.endsWith("/events")) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    if (path.endsWith("/messages")) return json(initial);
    if (path === `/api/conversations/${CONVERSATION}`) {
      return json({ conversation: { id: CONVERSATION }, activeRun, modelWarning: null });
    }
    const output = /^\/api\/directives\/([^/]+)\/output$/.exec(path);
    if (output && outputs.has(output[1]!)) return json(outputs.get(output[1]!));
    if (path.startsWith("/api/runs/")) {
      return json({ run: runSummary({ id: path.split("/")[3]! }), llmCalls: [], toolCalls: [] });
    }
    return json({ error: { code: "not_found", message: "Not found" } }, 404);
  });
  return {
    fetch,
    posts,
    outputs,
    answers,
    /** Sends envelopes on the open event stream; assertions wait for the frame-batched flush. */
    async send(...events: EventEnvelope[]) {
      await vi.waitFor(() => expect(stream).not.toBeNull());
      await act(async () => {
        for (const e of events) stream!.enqueue(encoder.encode(`data: ${JSON.stringify(e)}\n\n`));
      });
    },
  };
}

const at = { turn_id: "t1", run_id: "r1" };
const chunk = (seq: number | null, offset: number, text: string) =>
  envelope("stream_chunk", { ...at, node_id: "a1", seq, text, payload: { offset } });

function show() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ConversationView conversationId={CONVERSATION} />
    </QueryClientProvider>,
  );
}

const history = page(
  [
    transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "Show me a table", runId: "r1" }),
    transcriptMessage({
      id: "a1",
      turnId: "t1",
      runId: "r1",
      text: "| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconsole.log(1)\n```",
    }),
  ],
  10,
);

let server: ReturnType<typeof fakeServer>;
beforeEach(() => {
  window.sessionStorage.clear();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function start(initial: MessagesPage, activeRun: RunSummary | null = null) {
  server = fakeServer(initial, activeRun);
  vi.stubGlobal("fetch", server.fetch);
  return show();
}

// Generous: the first render pays for loading the view's modules, slow on a busy CI machine.
describe("ConversationView", { timeout: 20_000 }, () => {
  it("shows the transcript: the user's bubble, the reply's markdown table and code with a Copy button", async () => {
    start(history);
    const user = await screen.findByText("Show me a table");
    expect(user.closest("[data-role]")!.getAttribute("data-role")).toBe("user");
    const reply = document.querySelector('[data-message-id="a1"]') as HTMLElement;
    expect(reply.querySelectorAll("table td")).toHaveLength(2);
    expect(within(reply).getByText("console.log(1)")).toBeTruthy();
    expect(within(reply).getByRole("button", { name: "Copy code" })).toBeTruthy();
  });

  it("streams a reply into its bubble with the indicator on it, then settles", async () => {
    start(page([], 0));
    await screen.findByText("What can I help with?");
    await server.send(
      envelope("message_created", {
        ...at,
        node_id: "u1",
        seq: 1,
        payload: { message: transcriptMessage({ id: "u1", role: "user", text: "hi", runId: "r1" }) },
      }),
      runEvent("run_started", { ...at, seq: 2 }),
      envelope("message_created", {
        ...at,
        node_id: "a1",
        seq: 3,
        payload: { message: transcriptMessage({ id: "a1", runId: "r1", state: "pending" }) },
      }),
    );
    const bubble = () => document.querySelector('[data-message-id="a1"]') as HTMLElement;
    await vi.waitFor(() => expect(bubble()?.getAttribute("data-indicator")).toBe("streaming"));
    expect(within(bubble()).getByRole("status", { name: "Assistant is typing" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Stop" })).toBeTruthy();

    await server.send(
      chunk(null, 0, "Hello"),
      chunk(4, 0, "Hel"),
      chunk(null, 5, ", wor"),
      chunk(null, 3, "lo, world"),
    );
    await vi.waitFor(() => expect(bubble().textContent).toContain("Hello, world"));
    expect(bubble().textContent).not.toContain("HelloHel");

    await server.send(
      envelope("stream_complete", {
        ...at,
        node_id: "a1",
        seq: 5,
        text: "Hello, world!",
        payload: { state: "completed" },
      }),
      runEvent("run_succeeded", { ...at, seq: 6 }),
    );
    await vi.waitFor(() => expect(bubble().getAttribute("data-indicator")).toBe("completed"));
    expect(bubble().textContent).toContain("Hello, world!");
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
  });

  it("sends with Enter, keeps Shift+Enter as a new line, and shows rapid sends in order", async () => {
    start(page([], 0));
    const box = (await screen.findByRole("textbox", { name: "Message" })) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: "first line" } });
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(server.posts).toHaveLength(0);
    for (const text of ["one", "two", "three"]) {
      fireEvent.change(box, { target: { value: text } });
      fireEvent.keyDown(box, { key: "Enter" });
    }
    expect(box.value).toBe("");
    const bubbles = () => [...document.querySelectorAll('[data-role="user"]')].map((el) => el.textContent);
    expect(bubbles().map((t) => t?.replace(/(Sending…|Waiting to send…)$/, ""))).toEqual(["one", "two", "three"]);
    await vi.waitFor(() => expect(server.posts).toHaveLength(3));
    expect(server.posts.map((p) => (p.body as { content: string }).content)).toEqual(["one", "two", "three"]);
    await vi.waitFor(() => expect(bubbles()).toEqual(["one", "two", "three"]));
  });

  it("stops the reply in progress with Esc", async () => {
    start(page([], 0), runSummary({ id: "r1", state: "running" }));
    const box = await screen.findByRole("textbox", { name: "Message" });
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Stop" })).toBeTruthy());
    fireEvent.keyDown(box, { key: "Escape" });
    await vi.waitFor(() => expect(server.posts.map((p) => p.path)).toEqual(["/api/runs/r1/cancellation"]));
    await vi.waitFor(() => expect(screen.queryByRole("button", { name: "Stop" })).toBeNull());
  });

  it("shows a failed reply's error inline with Retry, and retrying replaces it", async () => {
    start(
      page(
        [
          transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "hi", runId: "r1" }),
          transcriptMessage({
            id: "a1",
            turnId: "t1",
            runId: "r1",
            state: "errored",
            text: "Part",
            error: { code: "http_error", message: "The provider answered 500", status: 500 },
          }),
        ],
        7,
      ),
    );
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The model provider returned an error.");
    expect(alert.textContent).toContain("The provider answered 500");
    fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    await vi.waitFor(() => expect(server.posts.map((p) => p.path)).toEqual(["/api/runs/r1/retry"]));
    await vi.waitFor(() => expect(document.querySelector('[data-message-id="a1"]')).toBeNull());
    expect(document.querySelector('[data-run-state="queued"]')).not.toBeNull();
  });

  it("points to the provider settings when no provider serves the agent's models", async () => {
    start(
      page(
        [
          transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "hi", runId: "r1" }),
          transcriptMessage({
            id: "a1",
            turnId: "t1",
            runId: "r1",
            state: "errored",
            error: { code: "no_provider_for_model", message: "No enabled provider serves gpt-x." },
          }),
        ],
        4,
      ),
    );
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("No provider serves this agent’s models.");
    expect(within(alert).getByRole("link", { name: "Fix in System settings" }).getAttribute("href")).toBe(
      "/system/settings#providers",
    );
  });

  it("shows tool calls as collapsible cards with arguments and result", async () => {
    start(
      page(
        [
          transcriptMessage({
            id: "a1",
            runId: "r1",
            text: "Let me look.",
            parts: [
              { type: "text", text: "Let me look." },
              {
                type: "tool_call",
                id: "task1",
                callId: "c1",
                name: "memory_search",
                args: { query: "cats" },
                state: "completed",
                result: "2 memories",
                durationMs: 12,
                title: "Searched memory for “cats”",
                summary: "2 memories found",
              },
            ],
          }),
        ],
        3,
      ),
    );
    const card = (await screen.findByText("Searched memory for “cats”")).closest("details")!;
    expect(card.open).toBe(false);
    expect(within(card).getByText("2 memories found")).toBeTruthy();
    expect(card.textContent).toContain("memory_search");
    expect(card.textContent).toContain('"query": "cats"');
    expect(card.textContent).toContain("2 memories");
    expect(card.textContent).toContain("12 ms");
  });

  it("warns when a running reply goes quiet, with Cancel and Retry", async () => {
    window.localStorage.setItem("cybros.chat.stuckMs", "300");
    try {
      start(page([], 0), runSummary({ id: "r1", state: "running", activeNodeId: null }));
      await server.send(runEvent("run_started", { ...at, seq: 1 }));
      const warning = await screen.findByText(/no word from this reply/i, undefined, { timeout: 4000 });
      const box = warning.closest('[role="alert"]') as HTMLElement;
      expect(within(box).getByRole("button", { name: "Cancel" })).toBeTruthy();
      expect(within(box).getByRole("button", { name: "Retry" })).toBeTruthy();
    } finally {
      window.localStorage.removeItem("cybros.chat.stuckMs");
    }
  });

  describe("commands on a territory", () => {
    const approval = { id: "d1", command: "rm -rf build", cwd: "/work/app", reasons: ["deletes files"] };
    const bash: ToolCallPart = {
      type: "tool_call",
      id: "task1",
      callId: "c1",
      name: "bash",
      args: { command: "rm -rf build" },
      state: "running",
      title: "Ran a command",
      directive: { id: "d1", territory: "laptop" },
    };
    const waitingPage = (part: ToolCallPart) =>
      page(
        [
          transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "clean up", runId: "r1" }),
          transcriptMessage({ id: "a1", turnId: "t1", runId: "r1", state: "streaming", parts: [part] }),
        ],
        8,
      );
    const running = runSummary({ id: "r1", state: "running", activeNodeId: "a1" });
    const reply = () => document.querySelector('[data-message-id="a1"]') as HTMLElement;
    const card = () => reply().querySelector("details[data-tool-call]") as HTMLDetailsElement;
    const fetchesOf = (path: string) =>
      server.fetch.mock.calls.filter(([input]) => new URL(String(input), "http://localhost").pathname === path);

    it("asks for approval in the card after a reload, and Approve answers it", async () => {
      server = fakeServer(waitingPage({ ...bash, approval }), running);
      server.outputs.set("d1", {
        id: "d1",
        state: "awaiting_approval",
        exitCode: null,
        stdout: "",
        stderr: "",
        stdoutSeq: -1,
        stderrSeq: -1,
        truncated: false,
      });
      vi.stubGlobal("fetch", server.fetch);
      show();
      const panel = await screen.findByRole("region", { name: "Approval needed" });
      expect(card().open).toBe(true);
      expect(panel.querySelector("pre")!.textContent).toBe("rm -rf build");
      expect(panel.textContent).toContain("/work/app");
      expect(panel.textContent).toContain("laptop");
      expect(panel.textContent).toContain("deletes files");
      // The reply says what it waits for instead of typing dots.
      const status = within(reply()).getByText("Waiting for your approval", { selector: "[data-waiting]" });
      expect(status.getAttribute("data-waiting")).toBe("approval");
      expect(within(reply()).queryByRole("status", { name: "Assistant is typing" })).toBeNull();

      fireEvent.click(within(panel).getByRole("button", { name: "Approve" }));
      await vi.waitFor(() => expect(screen.queryByRole("region", { name: "Approval needed" })).toBeNull());
      expect(server.posts).toEqual([{ path: "/api/approvals/d1", body: { approved: true } }]);
      expect(within(reply()).getByText("Running on laptop")).toBeTruthy();
      // The card opened mid-run asked once for what its command printed so far.
      expect(fetchesOf("/api/directives/d1/output")).toHaveLength(1);
    });

    it("rejects with a reason, and keeps asking when the answer fails", async () => {
      start(waitingPage({ ...bash, approval }), running);
      server.answers.status = 409;
      const panel = await screen.findByRole("region", { name: "Approval needed" });
      fireEvent.click(within(panel).getByRole("button", { name: "Reject…" }));
      fireEvent.change(within(panel).getByLabelText(/Why not/), { target: { value: "Only the cache" } });
      fireEvent.click(within(panel).getByRole("button", { name: "Reject" }));
      await vi.waitFor(() => expect(server.posts).toHaveLength(1));
      expect(server.posts[0]).toEqual({
        path: "/api/approvals/d1",
        body: { approved: false, reason: "Only the cache" },
      });
      // Still asking, and the button works again.
      const reject = await within(panel).findByRole("button", { name: "Reject" });
      await vi.waitFor(() => expect((reject as HTMLButtonElement).disabled).toBe(false));
      server.answers.status = 200;
      fireEvent.click(reject);
      await vi.waitFor(() => expect(screen.queryByRole("region", { name: "Approval needed" })).toBeNull());
      expect(card().querySelector("[data-tool-summary]")!.textContent).toBe("Rejected");
    });

    it("streams a command's output into its card, stderr apart, then how it ended", async () => {
      start(waitingPage(bash), running);
      await vi.waitFor(() => expect(card()?.open).toBe(true));
      const out = (seq: number, stream: "stdout" | "stderr", n: number, text: string) =>
        envelope("directive_output", {
          ...at,
          node_id: "task1",
          seq,
          text,
          payload: { directiveId: "d1", stream, seq: n },
        });
      await server.send(
        out(9, "stdout", 0, "removing build\n"),
        out(10, "stderr", 0, "warning: busy\n"),
        out(11, "stdout", 1, "done\n"),
        out(11, "stdout", 1, "done\n"),
        envelope("directive_state", {
          ...at,
          node_id: "task1",
          seq: 12,
          payload: { directiveId: "d1", state: "succeeded", exitCode: 0, outputTruncated: false },
        }),
      );
      const pane = () => card().querySelector('[role="log"]') as HTMLElement;
      await vi.waitFor(() => expect(pane().textContent).toBe("removing build\nwarning: busy\ndone\n"));
      expect(pane().querySelector('[data-stream="stderr"]')!.textContent).toBe("warning: busy\n");
      expect(card().textContent).toContain("$ rm -rf build");
      expect(card().querySelector("[data-directive-end]")!.textContent).toBe("Exit code 0");
      expect(within(reply()).getByText("Running on laptop")).toBeTruthy();
    });
  });

  describe("hook warnings", () => {
    const warning = {
      hook: "before_inference" as const,
      stepId: "s1",
      message: "The before_inference hook failed with exit code 3; the turn went on without it.",
      stderr: "mood service unreachable\n",
      runId: "r1",
      nodeId: null,
    };
    // One run, two bubbles (a tool call, then the answer): the warning goes under the run's last one.
    const loop = page(
      [
        transcriptMessage({ id: "u1", turnId: "t1", role: "user", text: "How are you?", runId: "r1" }),
        transcriptMessage({ id: "a1", turnId: "t1", runId: "r1", text: "Let me look." }),
        transcriptMessage({ id: "a2", turnId: "t1", runId: "r1", text: "Fine, thanks." }),
      ],
      10,
    );
    const reply = (id: string) => document.querySelector(`[data-message-id="${id}"]`) as HTMLElement;

    it("shows a page's warnings quietly under the run's last reply, stderr behind a disclosure", async () => {
      start({ ...loop, hookWarnings: [warning, { ...warning, stepId: "s2" }] });
      await screen.findByText("Fine, thanks.");
      expect(reply("a1").querySelector("[data-hook-warning]")).toBeNull();
      const line = reply("a2").querySelector('[data-hook-warning="before_inference"]') as HTMLElement;
      // The same failure before each model call of the run is one line, counted.
      expect(line.querySelector("p")!.textContent).toBe(`${warning.message} (×2)`);
      const stderr = line.querySelector("details") as HTMLDetailsElement;
      expect(stderr.open).toBe(false);
      expect(stderr.querySelector("pre")!.textContent).toBe("mood service unreachable");
    });

    it("adds a live warning to its run's reply", async () => {
      start(loop);
      await screen.findByText("Fine, thanks.");
      expect(document.querySelector("[data-hook-warning]")).toBeNull();
      const { runId: _, nodeId: __, ...payload } = warning;
      await server.send(envelope("hook_warning", { ...at, seq: 11, payload: { ...payload, stderr: "" } }));
      await vi.waitFor(() => expect(reply("a2").querySelector("[data-hook-warning]")).not.toBeNull());
      expect(reply("a2").querySelector("[data-hook-warning]")!.textContent).toBe(warning.message);
    });
  });
});
