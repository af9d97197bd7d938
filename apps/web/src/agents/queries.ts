import type {
  AgentCommitDiff,
  AgentCommitResult,
  AgentDetail,
  AgentFileContent,
  AgentFileList,
  AgentHistory,
  AgentProfile,
  AgentStatus,
  AgentSummary,
  CreateAgentInput,
  SaveAgentFileInput,
} from "@cybros/protocol";
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

const agentPath = (id: string, suffix = "") => `/api/agents/${encodeURIComponent(id)}${suffix}`;
const filePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

export const versionKeys = {
  all: (id: string) => [...agentKeys.all, "versions", id] as const,
  files: (id: string) => [...versionKeys.all(id), "files"] as const,
  file: (id: string, path: string) => [...versionKeys.all(id), "file", path] as const,
  status: (id: string) => [...versionKeys.all(id), "status"] as const,
  history: (id: string) => [...versionKeys.all(id), "history"] as const,
  diff: (id: string, sha: string) => [...versionKeys.all(id), "diff", sha] as const,
};

export function useAgentFiles(id: string) {
  return useQuery({ queryKey: versionKeys.files(id), queryFn: () => api.get<AgentFileList>(agentPath(id, "/files")) });
}

export function useAgentFile(id: string, path: string | null) {
  return useQuery({
    queryKey: versionKeys.file(id, path ?? ""),
    queryFn: () => api.get<AgentFileContent>(agentPath(id, `/files/${filePath(path!)}`)),
    enabled: Boolean(path),
  });
}

/** Changes made on disk and not committed; checked again when the window regains focus. */
export function useAgentStatus(id: string) {
  return useQuery({ queryKey: versionKeys.status(id), queryFn: () => api.get<AgentStatus>(agentPath(id, "/status")) });
}

export function useAgentHistory(id: string) {
  return useQuery({
    queryKey: versionKeys.history(id),
    queryFn: () => api.get<AgentHistory>(agentPath(id, "/history")).then((r) => r.commits),
  });
}

export function useAgentCommitDiff(id: string, sha: string | undefined) {
  return useQuery({
    queryKey: versionKeys.diff(id, sha ?? ""),
    queryFn: () => api.get<AgentCommitDiff>(agentPath(id, `/history/${sha}`)),
    enabled: Boolean(sha),
  });
}

/** Anything that makes a version changes files, status, history and the detail's commit at once. */
function useVersionMutation<I, R>(id: string, mutationFn: (input: I) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: versionKeys.all(id) }),
        client.invalidateQueries({ queryKey: agentKeys.detail(id) }),
      ]),
  });
}

export function useSaveAgentFile(id: string) {
  return useVersionMutation(id, ({ path, ...input }: SaveAgentFileInput & { path: string }) =>
    api.put<AgentCommitResult>(agentPath(id, `/files/${filePath(path)}`), input),
  );
}

export function useCommitAgentChanges(id: string) {
  return useVersionMutation(id, (message: string) =>
    api.post<AgentCommitResult>(agentPath(id, "/commits"), { message }),
  );
}

export function useDiscardAgentChanges(id: string) {
  return useVersionMutation(id, () => api.delete(agentPath(id, "/changes")));
}

export function useRevertAgentCommit(id: string) {
  return useVersionMutation(id, (commit: string) => api.post<AgentCommitResult>(agentPath(id, "/reverts"), { commit }));
}

export function useDeleteAgent(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete(agentPath(id)),
    // The agent's own queries are left alone: the page leaves, and refetching them now would only find a 404.
    onSuccess: () => client.invalidateQueries({ queryKey: [...agentKeys.all, "list"] }),
  });
}
