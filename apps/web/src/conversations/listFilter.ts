import { useSyncExternalStore } from "react";

/**
 * The sidebar list's search text and archived toggle. Kept outside React state so they survive moving between
 * the agent and settings layouts (each mounts its own sidebar).
 */
type Filter = { search: string; archived: boolean };

let filter: Filter = { search: "", archived: false };
const listeners = new Set<() => void>();

function set(patch: Partial<Filter>) {
  filter = { ...filter, ...patch };
  for (const listener of listeners) listener();
}

export function useListFilter(): Filter & {
  setSearch: (search: string) => void;
  setArchived: (archived: boolean) => void;
} {
  const current = useSyncExternalStore(
    (notify) => {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    () => filter,
  );
  return { ...current, setSearch: (search) => set({ search }), setArchived: (archived) => set({ archived }) };
}

/** Back to no search, active conversations (tests; signing out). */
export function resetListFilter(): void {
  set({ search: "", archived: false });
}
