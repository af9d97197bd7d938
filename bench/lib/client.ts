import http from "node:http";
import { epochNow } from "./stats.js";

/** The envelope fields the benchmarks read (packages/protocol has the full shape). */
export interface BenchEvent {
  conversation_id: string;
  run_id: string | null;
  node_id: string | null;
  seq: number | null;
  kind: string;
  text?: string;
  payload: Record<string, unknown>;
}

const OWNER = { email: "bench@example.com", password: "benchmark password 1" };
const ENDED = new Set(["run_succeeded", "run_failed", "run_canceled"]);

/** A signed-in API client: a browser's cookie and same-origin header, nothing else. */
export class Api {
  /** The session cookie header, once signed in. */
  cookie = "";
  readonly origin: string;
  /** One connection per request: reusing idle keep-alive sockets races the server closing them (ECONNRESET). */
  readonly agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

  constructor(readonly baseUrl: string) {
    this.origin = new URL(baseUrl).origin;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            origin: this.origin,
            ...(this.cookie ? { cookie: this.cookie } : {}),
            ...(payload !== undefined
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const setCookie = res.headers["set-cookie"];
          if (setCookie?.length) {
            this.cookie = setCookie
              .map((c) => c.split(";")[0]!)
              // A cleared cookie ("name="); a value may end in "=" itself (base64).
              .filter((c) => c.indexOf("=") < c.length - 1)
              .join("; ");
          }
          const parts: Buffer[] = [];
          res.on("data", (part: Buffer) => parts.push(part));
          res.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8");
            if ((res.statusCode ?? 0) >= 400) {
              reject(new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 500)}`));
              return;
            }
            resolve((text ? JSON.parse(text) : undefined) as T);
          });
          res.on("error", reject);
        },
      );
      req.on("error", (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
      req.end(payload);
    });
  }

  /** First-run setup (which signs in), or sign-in when setup was done before. */
  async signIn(): Promise<void> {
    const session = await this.request<{ setupRequired: boolean }>("GET", "/api/session");
    if (session.setupRequired) {
      await this.request("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password });
    } else {
      await this.request("POST", "/api/session", OWNER);
    }
  }

  async defaultAgentId(): Promise<string> {
    const { agents } = await this.request<{ agents: { id: string; profileSource: string }[] }>("GET", "/api/agents");
    const agent = agents.find((a) => a.profileSource === "bundled:default-assistant");
    if (!agent) throw new Error("default-assistant is not installed");
    return agent.id;
  }

  /** Points mock-model at the external mock process, above the built-in mock's priority. */
  async useProvider(baseUrl: string): Promise<void> {
    await this.request("POST", "/api/providers", {
      name: "Bench mock",
      baseUrl,
      modelAllowlist: ["mock-model"],
      priority: 100,
    });
  }

  async createConversation(agentProgramId: string): Promise<string> {
    return (await this.request<{ id: string }>("POST", "/api/conversations", { agentProgramId })).id;
  }

  async send(conversationId: string, content: string): Promise<{ runId: string }> {
    const result = await this.request<{ run: { id: string } }>(
      "POST",
      `/api/conversations/${conversationId}/messages`,
      { content },
    );
    return { runId: result.run.id };
  }

  async transcript(conversationId: string) {
    return this.request<{ messages: { id: string; role: string; text: string; state: string }[] }>(
      "GET",
      `/api/conversations/${conversationId}/messages?limit=200`,
    );
  }

  async runDetail(runId: string) {
    return this.request<{
      llmCalls: {
        usage: { promptTokens: number | null; cachedTokens: number | null; completionTokens: number | null };
        messageCount: number;
        error: unknown;
      }[];
      hooks: { hook: string; state: string; warning: string | null }[];
    }>("GET", `/api/runs/${runId}`);
  }

  /** Waits until the server's own Nexus (which runs hooks and custom tools) reports its territory online. */
  async waitForLocalNexus(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { territories } = await this.request<{ territories: { local: boolean; status: string }[] }>(
        "GET",
        "/api/territories",
      );
      if (territories.some((t) => t.local && t.status === "online")) return;
      if (Date.now() > deadline) throw new Error("the local Nexus did not come online");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Opens the conversation's SSE stream; resolves once the server answered with its headers. */
  openEvents(conversationId: string, onEvent: (event: BenchEvent, receivedAt: number) => void): Promise<EventStream> {
    return EventStream.open(this, conversationId, onEvent);
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A lean SSE reader: one clock read per socket read (before parsing, so parsing is not counted as latency),
 * blocks split on blank lines, `data:` parsed as JSON. Remembers when each run ended.
 */
export class EventStream {
  private readonly ended = new Map<string, BenchEvent>();
  private readonly waiters = new Map<string, (event: BenchEvent) => void>();
  private request!: http.ClientRequest;
  private failure: Error | undefined;

  private constructor(private readonly onEvent: (event: BenchEvent, receivedAt: number) => void) {}

  static open(
    api: Api,
    conversationId: string,
    onEvent: (event: BenchEvent, receivedAt: number) => void,
  ): Promise<EventStream> {
    const stream = new EventStream(onEvent);
    const url = new URL(`/api/conversations/${conversationId}/events`, api.baseUrl);
    return new Promise((resolve, reject) => {
      stream.request = http.get(
        url,
        { agent: api.agent, headers: { accept: "text/event-stream", cookie: api.cookie } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`event stream answered ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding("utf8");
          let buffer = "";
          res.on("data", (text: string) => {
            const receivedAt = epochNow();
            buffer += text;
            let index = buffer.indexOf("\n\n");
            while (index >= 0) {
              stream.handleBlock(buffer.slice(0, index), receivedAt);
              buffer = buffer.slice(index + 2);
              index = buffer.indexOf("\n\n");
            }
          });
          res.on("error", (error) => stream.fail(error));
          res.on("close", () => stream.fail(new Error("event stream closed")));
          resolve(stream);
        },
      );
      stream.request.on("error", (error) => {
        stream.fail(error);
        reject(error);
      });
    });
  }

  private handleBlock(block: string, receivedAt: number): void {
    const start = block.indexOf("data: ");
    if (start < 0) return;
    const end = block.indexOf("\n", start);
    const event = JSON.parse(block.slice(start + 6, end < 0 ? undefined : end)) as BenchEvent;
    this.onEvent(event, receivedAt);
    if (ENDED.has(event.kind) && event.run_id) {
      this.ended.set(event.run_id, event);
      this.waiters.get(event.run_id)?.(event);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.values()) waiter({ kind: "stream_failed" } as BenchEvent);
  }

  /** The run's ending event (run_succeeded, run_failed, run_canceled). */
  runEnded(runId: string, timeoutMs = 120_000): Promise<BenchEvent> {
    const seen = this.ended.get(runId);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(runId);
        reject(new Error(`run ${runId} did not end within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(runId, (event) => {
        clearTimeout(timer);
        this.waiters.delete(runId);
        if (event.kind === "stream_failed") reject(this.failure ?? new Error("event stream failed"));
        else resolve(event);
      });
    });
  }

  close(): void {
    this.request.destroy();
  }
}
