import type { LoginInput, PasswordChangeInput, SessionState, SessionSummary, SetupInput } from "@cybros/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { resetListFilter } from "../conversations/listFilter";
import { api, setCsrfToken } from "../lib/api";

export const sessionKey = ["session"] as const;

async function fetchSession(): Promise<SessionState> {
  const state = await api.get<SessionState>("/api/session");
  setCsrfToken(state.csrfToken);
  return state;
}

/** Who is signed in, whether first-run setup is pending, and the CSRF token; every guard reads this. */
export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: fetchSession, staleTime: 60_000 });
}

/** The signed-in user; only call below a guard that ensures there is one. */
export function useCurrentUser() {
  const { data } = useSession();
  return data?.user ?? null;
}

export function useSetup() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: SetupInput) => api.post("/api/setup", input),
    onSuccess: () => client.invalidateQueries({ queryKey: sessionKey }),
  });
}

export function useLogin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: LoginInput) => api.post("/api/session", input),
    onSuccess: async () => {
      // Everything cached belonged to whoever was signed in before.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      await client.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete("/api/session"),
    onSettled: async () => {
      setCsrfToken(null);
      resetListFilter();
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      await client.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

export const sessionsKey = ["sessions"] as const;

export function useSessions() {
  return useQuery({
    queryKey: sessionsKey,
    queryFn: () => api.get<{ sessions: SessionSummary[] }>("/api/sessions").then((r) => r.sessions),
  });
}

/** Ends every session, this one included: the user lands on the login page. */
export function useSignOutEverywhere() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete<{ ended: number }>("/api/sessions"),
    onSuccess: async () => {
      setCsrfToken(null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      await client.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

export function useChangePassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: PasswordChangeInput) => api.put<{ ok: true }>("/api/profile/password", input),
    onSuccess: () => client.invalidateQueries({ queryKey: sessionsKey }),
  });
}
