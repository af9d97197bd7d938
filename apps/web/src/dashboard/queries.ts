import type { AgentDetail, MessagesPage, RunError, RunSummary } from "@cybros/protocol";
import { useQueries, useQuery } from "@tanstack/react-query";
import { agentKeys, useAgents } from "../agents/queries";
import { useConversationList } from "../conversations/queries";
import { api } from "../lib/api";

/** The fields of GET /api/runs/:id the dashboard shows. */
type RunDetailLite = {
  run: RunSummary;
  llmCalls: Array<{
    provider: string | null;
    model: string | null;
    usage: { promptTokens: number | null; completionTokens: number | null; cachedTokens: number | null };
    durationMs: number | null;
    error: RunError | null;
  }>;
};

export type LastRun = {
  conversationId: string;
  conversationTitle: string;
  run: RunSummary;
  provider: string | null;
  model: string | null;
  tokens: number | null;
  cachedTokens: number | null;
};

/**
 * The most recent run: the newest conversation's latest reply and its run detail. Null when nothing has run
 * yet. (Three small reads; a dedicated endpoint can replace it when there is one.)
 */
export function useLastRun() {
  const conversations = useConversationList({ q: "", archived: false });
  const latest = conversations.data?.pages[0]?.conversations[0];
  return useQuery({
    queryKey: ["dashboard", "last-run", latest?.id, latest?.lastActivityAt],
    enabled: conversations.isSuccess,
    queryFn: async (): Promise<LastRun | null> => {
      if (!latest) return null;
      const page = await api.get<MessagesPage>(`/api/conversations/${latest.id}/messages?limit=4`);
      const reply = [...page.messages].reverse().find((m) => m.runId);
      if (!reply?.runId) return null;
      const detail = await api.get<RunDetailLite>(`/api/runs/${reply.runId}`);
      const calls = detail.llmCalls;
      const last = calls[calls.length - 1];
      const sum = (pick: (c: RunDetailLite["llmCalls"][number]) => number | null) =>
        calls.length ? calls.reduce((total, c) => total + (pick(c) ?? 0), 0) : null;
      return {
        conversationId: latest.id,
        conversationTitle: latest.title,
        run: detail.run,
        provider: last?.provider ?? null,
        model: last?.model ?? null,
        tokens: sum((c) => (c.usage.promptTokens ?? 0) + (c.usage.completionTokens ?? 0)),
        cachedTokens: sum((c) => c.usage.cachedTokens),
      };
    },
  });
}

export type AgentHealth = { id: string; name: string; model: string | null; provider: string | null; ok: boolean };

/** For each agent (up to 12): the model it would use now and who serves it — or that nothing does. */
export function useAgentModelHealth() {
  const agents = useAgents();
  const list = (agents.data ?? []).slice(0, 12);
  const details = useQueries({
    queries: list.map((agent) => ({
      queryKey: agentKeys.detail(agent.id),
      queryFn: () => api.get<AgentDetail>(`/api/agents/${agent.id}`),
    })),
  });
  const pending = agents.isPending || details.some((d) => d.isPending);
  const health: AgentHealth[] = list.map((agent, index) => {
    const detail = details[index]?.data;
    const preferred = detail?.models.find((m) => m.provider);
    const fallback = detail?.defaultModel?.provider ? detail.defaultModel : null;
    const chosen = preferred ?? fallback;
    return {
      id: agent.id,
      name: agent.name,
      model: chosen?.model ?? detail?.models[0]?.model ?? detail?.defaultModel?.model ?? null,
      provider: chosen?.provider?.name ?? null,
      ok: Boolean(chosen) && !detail?.loadError,
    };
  });
  return { pending, error: agents.error, health };
}
