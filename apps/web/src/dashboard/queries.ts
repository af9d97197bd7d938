import type { AgentDetail, RunError, RunSummary } from "@cybros/protocol";
import { useQueries, useQuery } from "@tanstack/react-query";
import { agentKeys, useAgents } from "../agents/queries";
import { api } from "../lib/api";

/** The fields of GET /api/runs/latest the dashboard shows. */
type LatestRunDetail = {
  run: RunSummary;
  conversation: { id: string; title: string };
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

/** The most recently queued run of any conversation, with its model and token use; null before the first. */
export function useLastRun() {
  return useQuery({
    queryKey: ["dashboard", "last-run"],
    queryFn: async (): Promise<LastRun | null> => {
      const detail = await api.get<LatestRunDetail | null>("/api/runs/latest");
      if (!detail) return null;
      const calls = detail.llmCalls;
      const last = calls[calls.length - 1];
      const sum = (pick: (c: LatestRunDetail["llmCalls"][number]) => number | null) =>
        calls.length ? calls.reduce((total, c) => total + (pick(c) ?? 0), 0) : null;
      return {
        conversationId: detail.conversation.id,
        conversationTitle: detail.conversation.title,
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
