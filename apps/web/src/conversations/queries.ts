import type { ConversationDetail, ConversationStarted, ConversationSummary, PostMessageInput } from "@cybros/protocol";
import {
  type InfiniteData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { api, query } from "../lib/api";

export type ConversationPage = { conversations: ConversationSummary[]; olderCursor: string | null };

/** Query keys of the conversations concept; the chat view shares `detail` for the active run. */
export const conversationKeys = {
  all: ["conversations"] as const,
  lists: () => [...conversationKeys.all, "list"] as const,
  list: (filter: { q: string; archived: boolean }) => [...conversationKeys.lists(), filter] as const,
  detail: (id: string) => [...conversationKeys.all, "detail", id] as const,
};

/** Newest activity first, a page at a time (`olderCursor` → `before`); filtered by title search. */
export function useConversationList(filter: { q: string; archived: boolean }, enabled = true) {
  return useInfiniteQuery({
    queryKey: conversationKeys.list(filter),
    queryFn: ({ pageParam }) =>
      api.get<ConversationPage>(
        `/api/conversations${query({ q: filter.q.trim(), archived: filter.archived, before: pageParam })}`,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.olderCursor,
    // Typing a search keeps the current list on screen until the new one arrives (no skeleton flash).
    placeholderData: (previous) => previous,
    enabled,
  });
}

export function useConversation(id: string | undefined) {
  return useQuery({
    queryKey: conversationKeys.detail(id ?? ""),
    queryFn: () => api.get<ConversationDetail>(`/api/conversations/${id}`),
    enabled: Boolean(id),
  });
}

/** Writes a changed summary into every cached list and the detail, so the UI updates without a refetch. */
function applySummary(client: QueryClient, summary: ConversationSummary) {
  client.setQueriesData<InfiniteData<ConversationPage>>({ queryKey: conversationKeys.lists() }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            conversations: page.conversations.map((c) => (c.id === summary.id ? summary : c)),
          })),
        }
      : data,
  );
  client.setQueryData<ConversationDetail>(conversationKeys.detail(summary.id), (detail) =>
    detail ? { ...detail, conversation: summary } : detail,
  );
}

function removeFromLists(client: QueryClient, id: string) {
  client.setQueriesData<InfiniteData<ConversationPage>>({ queryKey: conversationKeys.lists() }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            conversations: page.conversations.filter((c) => c.id !== id),
          })),
        }
      : data,
  );
}

/**
 * Creates a conversation by sending its first message (one request: a failed send leaves no empty conversation).
 * The page it opens is filled in from the answer, then refreshed behind it (the model warning).
 */
export function useCreateConversation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { agentProgramId: string; message: PostMessageInput & { clientMessageId: string } }) =>
      api.post<ConversationStarted>("/api/conversations", input),
    onSuccess: ({ conversation, run }) => {
      client.setQueryData<ConversationDetail>(conversationKeys.detail(conversation.id), {
        conversation,
        activeRun: run,
        modelWarning: null,
      });
      void client.invalidateQueries({ queryKey: conversationKeys.detail(conversation.id) });
      return client.invalidateQueries({ queryKey: conversationKeys.lists() });
    },
  });
}

export function useRenameConversation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) =>
      api.patch<ConversationSummary>(`/api/conversations/${id}`, { title }),
    onSuccess: (summary) => applySummary(client, summary),
  });
}

/** Archive (soft delete) or restore; the conversation moves between the normal and the archived list. */
export function useArchiveConversation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, archived }: { id: string; archived: boolean }) =>
      archived
        ? api.post<ConversationSummary>(`/api/conversations/${id}/archival`)
        : api.delete<ConversationSummary>(`/api/conversations/${id}/archival`),
    onSuccess: (summary) => {
      removeFromLists(client, summary.id);
      applySummary(client, summary);
      return client.invalidateQueries({ queryKey: conversationKeys.lists() });
    },
  });
}

export function useDeleteConversation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/conversations/${id}`),
    onSuccess: (_, id) => {
      removeFromLists(client, id);
      // Not the open page's own: removed under it, it would refetch (a 404) before the page navigates away.
      client.removeQueries({ queryKey: conversationKeys.detail(id), type: "inactive" });
    },
  });
}
