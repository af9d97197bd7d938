import { useCallback, useState } from "react";

/** A small piece of UI state that survives reloads (sidebar collapsed, debug overlay shown). */
export function useStoredState<T>(key: string, initial: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = window.localStorage.getItem(key);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        window.localStorage.setItem(key, JSON.stringify(next));
      } catch {
        // Private mode or full storage: the setting just won't persist.
      }
    },
    [key],
  );
  return [value, set];
}
