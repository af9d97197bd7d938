import { type APIRequestContext, expect, type Page } from "@playwright/test";

/** The parts of the API's answers these tests read (the full shapes live in packages/protocol/src). */
export interface ApiMessage {
  id: string;
  turnId: string;
  runId: string | null;
  role: "user" | "assistant";
  state: string;
  text: string;
  error: { code: string; message: string } | null;
}
export interface ApiRun {
  id: string;
  state: string;
  error: { code: string; message: string } | null;
  retryOfId: string | null;
}
export interface ApiEvent {
  seq: number | null;
  kind: string;
  node_id: string | null;
  run_id: string | null;
  turn_id: string | null;
  text?: string | null;
  payload: Record<string, unknown>;
  [field: string]: unknown;
}
/** One hook run of a reply (GET /api/runs/:id `hooks`). */
export interface ApiHookExecution {
  hook: string;
  state: string;
  exitCode: number | null;
  stderr: string;
  output: Record<string, unknown> | null;
  warning: string | null;
}
export interface ApiRunDetail {
  run: ApiRun;
  llmCalls: { agentCommit: string | null; usage: { promptTokens: number | null; cachedTokens: number | null } }[];
  hooks: ApiHookExecution[];
}
export interface ApiAgentCommit {
  sha: string;
  subject: string;
  author: "person" | "agent" | "revert" | "other";
}
export interface MockRequest {
  id: number;
  directive: string | null;
  scenario: string | null;
  status: number;
  /** completed, client_closed (the caller went away), disconnected (the mock cut it), responded (an error). */
  outcome: string | null;
  chunks_sent: number;
  [field: string]: unknown;
}

/**
 * The HTTP API as the signed-in browser would call it (same cookies, same origin), for setting up and checking
 * what the page shows against the server's truth (the mock LLM's request log and scenarios need the session too).
 */
export class Api {
  private readonly request: APIRequestContext;

  constructor(
    pageOrRequest: Page | APIRequestContext,
    readonly baseUrl: string,
  ) {
    this.request = "context" in pageOrRequest ? pageOrRequest.context().request : pageOrRequest;
  }

  async call<T>(method: string, path: string, data?: unknown, expected = [200, 201, 202, 204]): Promise<T> {
    const response = await this.request.fetch(`${this.baseUrl}${path}`, {
      method,
      data,
      headers: { origin: this.baseUrl },
    });
    const body = await response.text();
    if (!expected.includes(response.status())) {
      throw new Error(`${method} ${path} answered ${response.status()}: ${body.slice(0, 500)}`);
    }
    return (body ? JSON.parse(body) : undefined) as T;
  }

  /** A new conversation with the bundled Default Assistant. */
  async createConversation(): Promise<string> {
    const { agents } = await this.call<{ agents: { id: string; profileSource: string }[] }>("GET", "/api/agents");
    const assistant = agents.find((agent) => agent.profileSource === "bundled:default-assistant")!;
    const created = await this.call<{ id: string }>("POST", "/api/conversations", { agentProgramId: assistant.id });
    return created.id;
  }

  /**
   * A blank agent with `files` written into its folder through the files API, in order (a script before the
   * agent.yml that names it: each save is checked against the rest), and a conversation with it.
   */
  async agentConversation(name: string, files: Record<string, string>): Promise<{ agentId: string; id: string }> {
    const agent = await this.call<{ id: string }>("POST", "/api/agents", { name, blank: true });
    for (const [file, content] of Object.entries(files)) {
      await this.call("PUT", `/api/agents/${agent.id}/files/${file}`, { content });
    }
    const created = await this.call<{ id: string }>("POST", "/api/conversations", { agentProgramId: agent.id });
    return { agentId: agent.id, id: created.id };
  }

  /** The whole transcript, oldest first (every page of it). */
  async messages(conversationId: string): Promise<ApiMessage[]> {
    const all: ApiMessage[] = [];
    let before: string | null = null;
    do {
      const query: string = before ? `&before=${encodeURIComponent(before)}` : "";
      const page: { messages: ApiMessage[]; olderCursor: string | null } = await this.call(
        "GET",
        `/api/conversations/${conversationId}/messages?limit=100${query}`,
      );
      all.unshift(...page.messages);
      before = page.olderCursor;
    } while (before);
    return all;
  }

  async postMessage(conversationId: string, content: string): Promise<{ message: ApiMessage; run: ApiRun }> {
    return this.call("POST", `/api/conversations/${conversationId}/messages`, { content });
  }

  async activeRun(conversationId: string): Promise<ApiRun | null> {
    const detail = await this.call<{ activeRun: ApiRun | null }>("GET", `/api/conversations/${conversationId}`);
    return detail.activeRun;
  }

  async run(runId: string): Promise<ApiRun> {
    return (await this.call<{ run: ApiRun }>("GET", `/api/runs/${runId}`)).run;
  }

  /** Persisted events after `cursor` (the polling endpoint: what a replay would send). */
  async events(conversationId: string, cursor = 0): Promise<ApiEvent[]> {
    const all: ApiEvent[] = [];
    for (;;) {
      const page = await this.call<{ events: ApiEvent[]; cursor: number }>(
        "GET",
        `/api/conversations/${conversationId}/events/poll?cursor=${cursor}`,
      );
      all.push(...page.events);
      if (page.events.length === 0 || page.cursor === cursor) return all;
      cursor = page.cursor;
    }
  }

  /** Waits until the conversation has no queued or running run (the server's word, not the page's). */
  async waitForIdle(conversationId: string, timeout = 60_000) {
    await expect
      .poll(async () => (await this.activeRun(conversationId))?.state ?? "idle", { timeout, intervals: [250] })
      .toBe("idle");
  }

  /** The server's transcript once no run is left. */
  async settledTranscript(conversationId: string, timeout?: number): Promise<ApiMessage[]> {
    await this.waitForIdle(conversationId, timeout);
    return this.messages(conversationId);
  }

  async runDetail(runId: string): Promise<ApiRunDetail> {
    return this.call<ApiRunDetail>("GET", `/api/runs/${runId}`);
  }

  /** A new agent: blank, or cloned from a Git URL; answers its id. */
  async createAgent(name: string, source: { blank: true } | { gitUrl: string } = { blank: true }): Promise<string> {
    return (await this.call<{ id: string }>("POST", "/api/agents", { name, ...source })).id;
  }

  /** The agent's folder on the server (tests run on the server's machine) and its HEAD commit. */
  async agent(id: string): Promise<{ localPath: string; gitCommit: string | null; loadError: string | null }> {
    return this.call("GET", `/api/agents/${id}`);
  }

  async agentFile(id: string, path: string): Promise<string> {
    return (await this.call<{ content: string }>("GET", `/api/agents/${id}/files/${path}`)).content;
  }

  /** Saves one file as the editor does (validated, then committed); answers the commit. */
  async saveAgentFile(id: string, path: string, content: string, message?: string): Promise<string> {
    const saved = await this.call<{ commit: string }>("PUT", `/api/agents/${id}/files/${path}`, { content, message });
    return saved.commit;
  }

  /** Newest first. */
  async agentHistory(id: string): Promise<ApiAgentCommit[]> {
    return (await this.call<{ commits: ApiAgentCommit[] }>("GET", `/api/agents/${id}/history`)).commits;
  }

  /** Waits until the server's own Nexus ("This computer", which runs hooks and custom tools) is online. */
  async waitForLocalNexus(timeout = 30_000) {
    await expect
      .poll(
        async () => {
          const { territories } = await this.call<{ territories: { local: boolean; status: string }[] }>(
            "GET",
            "/api/territories",
          );
          return territories.find((territory) => territory.local)?.status ?? "missing";
        },
        { timeout, intervals: [100, 250] },
      )
      .toBe("online");
  }

  async defineScenario(name: string, steps: Record<string, unknown>[]) {
    await this.call("POST", "/mock_llm/v1/scenarios", { name, steps });
  }

  async mockRequests(limit = 50): Promise<MockRequest[]> {
    const body = await this.call<{ data: MockRequest[] }>("GET", `/mock_llm/v1/requests?limit=${limit}`);
    return body.data;
  }

  async providers(): Promise<{ id: string; name: string; enabled: boolean; headers: Record<string, string> }[]> {
    return (await this.call<{ providers: never[] }>("GET", "/api/providers")).providers;
  }

  async updateProvider(id: string, patch: Record<string, unknown>) {
    return this.call("PATCH", `/api/providers/${id}`, patch);
  }
}
