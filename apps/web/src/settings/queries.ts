import type { AccountSettings, AccountSettingsInput } from "@cybros/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";

export const accountSettingsKey = ["account", "settings"] as const;

export function useAccountSettings() {
  return useQuery({
    queryKey: accountSettingsKey,
    queryFn: () => api.get<AccountSettings>("/api/account/settings"),
  });
}

export function useSaveAccountSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: AccountSettingsInput) => api.patch<AccountSettings>("/api/account/settings", input),
    onSuccess: (settings) => {
      client.setQueryData(accountSettingsKey, settings);
      // The default model changes what agents and conversations resolve to.
      return Promise.all([
        client.invalidateQueries({ queryKey: ["agents"] }),
        client.invalidateQueries({ queryKey: ["providers", "resolution"] }),
        client.invalidateQueries({ queryKey: ["conversations", "detail"] }),
      ]);
    },
  });
}
