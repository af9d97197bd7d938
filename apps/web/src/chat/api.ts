import type {
  ApprovalAnswer,
  ConversationDetail,
  DirectiveOutput,
  HookExecution,
  MessagePart,
  MessagesPage,
  PostMessageResult,
  RunError,
  RunSummary,
} from "@cybros/protocol";
import { api, query } from "../lib/api";

/** The chat's calls to the HTTP API (docs/api.md); an interface so the session can be tested without a server. */
export interface ChatApi {
  messages(conversationId: string, options?: { before?: string | null; limit?: number }): Promise<MessagesPage>;
  detail(conversationId: string): Promise<ConversationDetail>;
  postMessage(conversationId: string, input: { content: string; clientMessageId: string }): Promise<PostMessageResult>;
  run(runId: string): Promise<RunDetail>;
  cancel(runId: string): Promise<RunSummary>;
  retry(runId: string): Promise<RunSummary>;
  /** Approves or rejects what a tool call waits on (the approval's id is in its card). */
  answerApproval(approvalId: string, answer: ApprovalAnswer): Promise<unknown>;
  /** What a directive printed so far, for a card opened while it runs. */
  directiveOutput(directiveId: string): Promise<DirectiveOutput>;
}

export interface PromptSection {
  name?: string;
  tokens?: number;
  hash?: string;
  stable?: boolean;
  [key: string]: unknown;
}

/** GET /api/runs/:id: what the inspector shows (apps/server/src/runs/detail.ts). */
export interface RunDetail {
  run: RunSummary;
  llmCalls: {
    id: string;
    nodeId: string | null;
    provider: string | null;
    model: string | null;
    agentProgramId?: string | null;
    /** The agent version the call ran with; links to it in the agent's history. */
    agentCommit?: string | null;
    sections: PromptSection[] | null;
    messageCount?: number | null;
    usage: { promptTokens: number | null; completionTokens: number | null; cachedTokens: number | null };
    ttftMs: number | null;
    durationMs: number | null;
    finishReason: string | null;
    error: RunError | null;
    createdAt: string;
  }[];
  toolCalls: Extract<MessagePart, { type: "tool_call" }>[];
  /** Each hook the run ran, in order (absent from servers before hooks). */
  hooks?: HookExecution[];
}

const base = (id: string) => `/api/conversations/${encodeURIComponent(id)}`;

export const chatApi: ChatApi = {
  messages: (id, options = {}) =>
    api.get(`${base(id)}/messages${query({ before: options.before, limit: options.limit })}`),
  detail: (id) => api.get(base(id)),
  postMessage: (id, input) => api.post(`${base(id)}/messages`, input),
  run: (runId) => api.get(`/api/runs/${encodeURIComponent(runId)}`),
  cancel: (runId) => api.post(`/api/runs/${encodeURIComponent(runId)}/cancellation`),
  retry: (runId) => api.post(`/api/runs/${encodeURIComponent(runId)}/retry`),
  answerApproval: (approvalId, answer) => api.post(`/api/approvals/${encodeURIComponent(approvalId)}`, answer),
  directiveOutput: (directiveId) => api.get(`/api/directives/${encodeURIComponent(directiveId)}/output`),
};
