import type { EnrollmentTokenCreated, TerritoryList, TerritorySummary } from "@cybros/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";

export const territoryKeys = {
  list: ["territories", "list"] as const,
};

/** How often the list is read again while shown: a machine's status and running count change on their own. */
const REFRESH_MS = 10_000;

/** The account's territories, oldest first (the local one is created at the first start). */
export function useTerritories() {
  return useQuery({
    queryKey: territoryKeys.list,
    queryFn: () => api.get<TerritoryList>("/api/territories").then((r) => r.territories),
    refetchInterval: REFRESH_MS,
  });
}

/** A one-time enrollment token and the command that uses it; shown once, so never cached. */
export function useCreateEnrollmentToken() {
  return useMutation({
    mutationFn: () => api.post<EnrollmentTokenCreated>("/api/territories/enrollment-tokens"),
  });
}

export function useRevokeTerritory() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<TerritorySummary>(`/api/territories/${id}/revocation`),
    onSuccess: (revoked) =>
      client.setQueryData<TerritorySummary[]>(territoryKeys.list, (list) =>
        list?.map((t) => (t.id === revoked.id ? revoked : t)),
      ),
  });
}
