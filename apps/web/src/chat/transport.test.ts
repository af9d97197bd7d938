// @vitest-environment node
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventEnvelope } from "@cybros/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONVERSATION, envelope } from "./testing";
import { backoffDelay, ConversationTransport, type NetworkMonitor, type TransportOptions } from "./transport";

const quiet = { debug() {}, warn() {} };

/** A stream the test writes to, served as the body of an SSE response. */
function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    send: (e: EventEnvelope) => controller.enqueue(encoder.encode(frame(e))),
    close: () => controller.close(),
  };
}

function frame(e: EventEnvelope) {
  return `${e.seq === null ? "" : `id: ${e.seq}\n`}data: ${JSON.stringify(e)}\n\n`;
}

interface Request {
  url: string;
  lastEventId: string | null;
}

/** A fetch whose answers the test queues; requests with nothing queued wait. */
function fakeFetch() {
  const requests: Request[] = [];
  const answers: (() => Response | Promise<Response>)[] = [];
  const waiting: (() => void)[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    requests.push({ url: String(input), lastEventId: headers.get("Last-Event-ID") });
    while (answers.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    const answer = answers.shift()!();
    const signal = init?.signal;
    if (signal) {
      if (signal.aborted) throw signal.reason;
      return await new Promise<Response>((resolve, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason));
        Promise.resolve(answer).then(resolve, reject);
      });
    }
    return answer;
  });
  return {
    fetch: fetch as unknown as typeof globalThis.fetch,
    requests,
    answer(next: () => Response | Promise<Response>) {
      answers.push(next);
      waiting.splice(0).forEach((w) => {
        w();
      });
    },
  };
}

function fakeNetwork(initial = true) {
  let online = initial;
  const listeners = new Set<(online: boolean) => void>();
  const network: NetworkMonitor = {
    online: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    network,
    set(value: boolean) {
      online = value;
      for (const l of listeners) l(value);
    },
  };
}

const transports: ConversationTransport[] = [];
afterEach(() => {
  for (const t of transports.splice(0)) t.stop();
});

function open(options: Partial<TransportOptions> & Pick<TransportOptions, "fetch">) {
  const events: EventEnvelope[] = [];
  const transport = new ConversationTransport({
    conversationId: CONVERSATION,
    cursor: 0,
    onEvents: (batch) => events.push(...batch),
    network: fakeNetwork().network,
    backoff: { baseMs: 10, maxMs: 40 },
    random: () => 0.5,
    log: quiet,
    ...options,
  });
  transports.push(transport);
  transport.start();
  return { transport, events };
}

const chunk = (seq: number | null, offset: number, text: string) =>
  envelope("stream_chunk", { node_id: "a1", seq, text, payload: { offset } });

describe("backoff", () => {
  it("doubles up to the ceiling with half of it jittered", () => {
    const b = { baseMs: 500, maxMs: 15_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, b, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(3, b, () => 1)).toBe(2000);
    expect(backoffDelay(20, b, () => 0.5)).toBe(11_250);
  });
});

describe("ConversationTransport", () => {
  it("streams envelopes split across reads, tracks the cursor and resumes from it after a drop", async () => {
    const server = fakeFetch();
    const first = sseStream();
    server.answer(() => first.response);
    const { transport, events } = open({ fetch: server.fetch, cursor: 3 });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    expect(server.requests[0]).toEqual({
      url: `/api/conversations/${CONVERSATION}/events?cursor=3`,
      lastEventId: "3",
    });
    const text = frame(chunk(4, 0, "Hel")) + frame(chunk(null, 3, "lo")) + frame(chunk(5, 3, "lo"));
    first.write(text.slice(0, 50));
    first.write(text.slice(50));
    await vi.waitFor(() => expect(events).toHaveLength(3));
    expect(transport.cursor).toBe(5);
    expect(transport.snapshot.counts).toEqual({ stream_chunk: 3 });

    const second = sseStream();
    server.answer(() => second.response);
    first.close();
    await vi.waitFor(() => expect(server.requests).toHaveLength(2));
    expect(server.requests[1]!.lastEventId).toBe("5");
    expect(server.requests[1]!.url).toContain("cursor=5");
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    second.send(chunk(6, 5, "!"));
    await vi.waitFor(() => expect(transport.cursor).toBe(6));
  });

  it("reads events split anywhere, with CRLF line ends, multi-line data and keep-alive comments", async () => {
    const server = fakeFetch();
    const stream = sseStream();
    server.answer(() => stream.response);
    const { transport, events } = open({ fetch: server.fetch, cursor: 0 });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    const json = JSON.stringify(chunk(7, 0, "Hi"));
    // Data lines join with a newline, which JSON allows between tokens: split after the first field.
    const cut = json.indexOf(',"') + 1;
    const text = `: keep-alive\r\nid: 7\r\ndata: ${json.slice(0, cut)}\r\ndata: ${json.slice(cut)}\r\n\r\n${frame(chunk(null, 2, "!"))}`;
    for (const character of text) stream.write(character);
    await vi.waitFor(() => expect(events).toHaveLength(2));
    expect(events.map((e) => ("text" in e ? e.text : undefined))).toEqual(["Hi", "!"]);
    expect(transport.cursor).toBe(7);
    expect(transport.snapshot.lastHeartbeatAt).not.toBeNull();
  });

  it("backs off between failed attempts and reports reconnecting", async () => {
    const server = fakeFetch();
    const failing = () => new Response("down", { status: 503 });
    server.answer(failing);
    server.answer(failing);
    const { transport } = open({ fetch: server.fetch, pollAfterFailures: 10 });
    await vi.waitFor(() => expect(server.requests).toHaveLength(3));
    expect(transport.snapshot).toMatchObject({ state: "reconnecting", failures: 2 });
    expect(transport.snapshot.error).toContain("503");
  });

  it("pauses while offline and reconnects at once when back online", async () => {
    const server = fakeFetch();
    const net = fakeNetwork();
    const first = sseStream();
    server.answer(() => first.response);
    const { transport } = open({
      fetch: server.fetch,
      network: net.network,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    net.set(false);
    expect(transport.snapshot.state).toBe("offline");
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests).toHaveLength(1);
    const second = sseStream();
    server.answer(() => second.response);
    net.set(true);
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    expect(server.requests).toHaveLength(2);
  });

  it("does not connect while it starts offline", async () => {
    const server = fakeFetch();
    const net = fakeNetwork(false);
    const { transport } = open({ fetch: server.fetch, network: net.network });
    expect(transport.snapshot.state).toBe("offline");
    expect(server.requests).toHaveLength(0);
  });

  it("falls back to polling only after SSE keeps failing, and stops polling once SSE works", async () => {
    const server = fakeFetch();
    const polls: string[] = [];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      if (url.includes("/events/poll")) {
        polls.push(url);
        const events = polls.length === 1 ? [chunk(8, 0, "polled")] : [];
        return Response.json({ events, cursor: 9 });
      }
      return server.fetch(input, init);
    }) as unknown as typeof globalThis.fetch;
    for (let i = 0; i < 3; i++) server.answer(() => Promise.reject(new TypeError("network")));
    const { transport, events } = open({
      fetch,
      pollAfterFailures: 3,
      pollIntervalMs: 10,
      sseRetryWhilePollingMs: 50,
    });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("polling"));
    await vi.waitFor(() => expect(events.map((e) => e.kind === "stream_chunk" && e.text)).toEqual(["polled"]));
    expect(polls[0]).toContain("cursor=0");
    await vi.waitFor(() => expect(polls.length).toBeGreaterThan(1));
    expect(polls.at(-1)).toContain("cursor=9");
    const sse = sseStream();
    server.answer(() => sse.response);
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"), { timeout: 2000 });
    expect(server.requests.at(-1)!.lastEventId).toBe("9");
    const count = polls.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(polls.length).toBe(count);
  });

  it("stops for good on 401, 403 and 404", async () => {
    const server = fakeFetch();
    server.answer(() => new Response("", { status: 401 }));
    const { transport } = open({ fetch: server.fetch });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("closed"));
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
  });

  it("reconnects when the stream goes silent past the idle timeout", async () => {
    const server = fakeFetch();
    const silent = sseStream();
    server.answer(() => silent.response);
    server.answer(() => sseStream().response);
    const warn = vi.fn();
    open({ fetch: server.fetch, idleTimeoutMs: 30, log: { debug() {}, warn } });
    await vi.waitFor(() => expect(server.requests).toHaveLength(2));
    expect(warn).toHaveBeenCalledWith(
      "reconnect",
      expect.any(String),
      expect.objectContaining({ error: "No data from the event stream" }),
    );
  });

  it("treats keep-alive comments as signs of life", async () => {
    const server = fakeFetch();
    const stream = sseStream();
    server.answer(() => stream.response);
    const { transport } = open({ fetch: server.fetch, idleTimeoutMs: 200 });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"), { interval: 5 });
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 60));
      stream.write(": ping\n\n");
    }
    expect(server.requests).toHaveLength(1);
    expect(transport.snapshot.lastHeartbeatAt).not.toBeNull();
  });

  it("passes injected envelopes down the same path (test hook)", async () => {
    const server = fakeFetch();
    const { transport, events } = open({ fetch: server.fetch });
    transport.inject([chunk(12, 0, "a"), chunk(11, 0, "a")]);
    expect(events.map((e) => e.seq)).toEqual([12, 11]);
    expect(transport.cursor).toBe(12);
  });

  it("drops a malformed event and keeps the stream", async () => {
    const server = fakeFetch();
    const stream = sseStream();
    server.answer(() => stream.response);
    const { transport, events } = open({ fetch: server.fetch });
    await vi.waitFor(() => expect(transport.snapshot.state).toBe("open"));
    stream.write('data: {not json\n\ndata: {"kind":1}\n\n');
    stream.send(chunk(1, 0, "ok"));
    await vi.waitFor(() => expect(events).toHaveLength(1));
  });
});

describe("against a real HTTP server", () => {
  it("resumes after the server drops the connection mid-stream, with Last-Event-ID", async () => {
    const log: EventEnvelope[] = [];
    for (let seq = 1; seq <= 6; seq++) log.push(chunk(seq, (seq - 1) * 2, "ab"));
    const seen: (string | undefined)[] = [];
    let connections = 0;
    const http = createServer((req, res: ServerResponse) => {
      connections++;
      seen.push(req.headers["last-event-id"] as string | undefined);
      const after = Number(req.headers["last-event-id"] ?? 0);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      const pending = log.filter((e) => e.seq! > after);
      // The first connection dies after three events; the next one sends the rest.
      const send = connections === 1 ? pending.slice(0, 3) : pending;
      for (const e of send) res.write(frame(e));
      if (connections === 1) setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    try {
      const { transport, events } = open({ fetch: globalThis.fetch, baseUrl: `http://127.0.0.1:${port}` });
      await vi.waitFor(() => expect(events).toHaveLength(6), { timeout: 3000 });
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seen).toEqual(["0", "3"]);
      expect(transport.cursor).toBe(6);
    } finally {
      for (const t of transports.splice(0)) t.stop();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
