import type { AgentDetail, AgentProfile, AgentSummary, CreateAgentInput } from "@cybros/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, query } from "../lib/api";

export const agentKeys = {
  all: ["agents"] as const,
  list: (q = "") => [...agentKeys.all, "list", q] as const,
  profiles: () => [...agentKeys.all, "profiles"] as const,
  detail: (id: string) => [...agentKeys.all, "detail", id] as const,
};

/** Agent programs, bundled first, then by name; `q` filters on the server. */
export function useAgents(q = "") {
  return useQuery({
    queryKey: agentKeys.list(q.trim()),
    queryFn: () => api.get<{ agents: AgentSummary[] }>(`/api/agents${query({ q: q.trim() })}`).then((r) => r.agents),
    placeholderData: (previous) => previous,
  });
}

export function useAgentProfiles(enabled = true) {
  return useQuery({
    queryKey: agentKeys.profiles(),
    queryFn: () => api.get<{ profiles: AgentProfile[] }>("/api/agents/profiles").then((r) => r.profiles),
    enabled,
  });
}

export function useAgent(id: string | undefined) {
  return useQuery({
    queryKey: agentKeys.detail(id ?? ""),
    queryFn: () => api.get<AgentDetail>(`/api/agents/${id}`),
    enabled: Boolean(id),
  });
}

export function useCreateAgent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateAgentInput) => api.post<AgentSummary>("/api/agents", input),
    onSuccess: () => client.invalidateQueries({ queryKey: [...agentKeys.all, "list"] }),
  });
}
