import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { AgentProfile, AgentProgramDetail, AgentProgramSummary, CreateAgentInput } from "./types";

export const agentKeys = {
  all: ["agents"] as const,
  list: () => [...agentKeys.all, "list"] as const,
  profiles: () => [...agentKeys.all, "profiles"] as const,
  detail: (id: string) => [...agentKeys.all, "detail", id] as const,
  file: (id: string, path: string) => [...agentKeys.all, "file", id, path] as const,
};

export function useAgents() {
  return useQuery({
    queryKey: agentKeys.list(),
    queryFn: () => api.get<{ agents: AgentProgramSummary[] }>("/api/agents").then((r) => r.agents),
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
    queryFn: () => api.get<AgentProgramDetail>(`/api/agents/${id}`),
    enabled: Boolean(id),
  });
}

export function useAgentFile(id: string, path: string | null) {
  return useQuery({
    queryKey: agentKeys.file(id, path ?? ""),
    queryFn: () =>
      api.get<{ path: string; content: string }>(`/api/agents/${id}/files?path=${encodeURIComponent(path ?? "")}`),
    enabled: Boolean(path),
  });
}

export function useCreateAgent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateAgentInput) => api.post<AgentProgramSummary>("/api/agents", input),
    onSuccess: () => client.invalidateQueries({ queryKey: agentKeys.list() }),
  });
}
