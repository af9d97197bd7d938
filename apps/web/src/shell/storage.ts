import { useCallback, useSyncExternalStore } from "react";

/**
 * A small piece of UI state that survives reloads (sidebar collapsed, debug overlay shown). Every component using
 * the same key sees a change at once: the debug menu item and the overlay are different components.
 */
export function useStoredState<T>(key: string, initial: T): [T, (value: T) => void] {
  const raw = useSyncExternalStore(subscribe, () => read(key));
  const value = raw === null ? initial : parse(raw, initial);
  const set = useCallback(
    (next: T) => {
      const text = JSON.stringify(next);
      memory.set(key, text);
      try {
        window.localStorage.setItem(key, text);
      } catch {
        // Private mode or full storage: the setting just won't persist.
      }
      for (const listener of listeners) listener();
    },
    [key],
  );
  return [value, set];
}

const listeners = new Set<() => void>();
/** What was set in this page, in case storage refuses to keep it. */
const memory = new Map<string, string>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key) ?? memory.get(key) ?? null;
  } catch {
    return memory.get(key) ?? null;
  }
}

function parse<T>(raw: string, fallback: T): T {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}
