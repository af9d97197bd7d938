import type {
  ConnectionCheck,
  ModelListingInput,
  ModelListingResult,
  ModelResolutionList,
  ProviderCreateInput,
  ProviderUpdateInput,
  ProviderView,
} from "@cybros/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";

export const providerKeys = {
  all: ["providers"] as const,
  list: () => [...providerKeys.all, "list"] as const,
  resolution: (models: string[]) => [...providerKeys.all, "resolution", models] as const,
};

/** Providers in resolution order (highest priority first). */
export function useProviders() {
  return useQuery({
    queryKey: providerKeys.list(),
    queryFn: () => api.get<{ providers: ProviderView[] }>("/api/providers").then((r) => r.providers),
  });
}

/** Which provider serves each model right now (and the account default's). */
export function useModelResolution(models: string[], enabled = true) {
  const sorted = [...new Set(models)].sort();
  return useQuery({
    queryKey: providerKeys.resolution(sorted),
    queryFn: () =>
      api.get<ModelResolutionList>(`/api/providers/resolution?models=${encodeURIComponent(sorted.join(","))}`),
    enabled,
  });
}

function useInvalidateProviders() {
  const client = useQueryClient();
  // Resolution answers (agents' model health, conversation warnings) depend on providers too.
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: providerKeys.all }),
      client.invalidateQueries({ queryKey: ["agents"] }),
      client.invalidateQueries({ queryKey: ["conversations", "detail"] }),
    ]);
}

export function useSaveProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: ({ id, input }: { id: string | null; input: ProviderCreateInput | ProviderUpdateInput }) =>
      id ? api.patch<ProviderView>(`/api/providers/${id}`, input) : api.post<ProviderView>("/api/providers", input),
    onSuccess: invalidate,
  });
}

export function useDeleteProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/providers/${id}`),
    onSuccess: invalidate,
  });
}

/** Fetch Models with the form's current (possibly unsaved) values. Upstream failures come back as `ok: false`. */
export function useFetchModels() {
  return useMutation({
    mutationFn: (input: ModelListingInput) => api.post<ModelListingResult>("/api/providers/model-listing", input),
  });
}

/** Test connection: a one-token completion with the saved values; the answer carries the updated provider. */
export function useCheckConnection() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api.post<{ check: ConnectionCheck; provider: ProviderView }>(`/api/providers/${id}/connection-check`),
    onSuccess: ({ provider }) => {
      client.setQueryData<ProviderView[]>(providerKeys.list(), (list) =>
        list?.map((p) => (p.id === provider.id ? provider : p)),
      );
    },
  });
}
