import { Bug, X } from "lucide-react";
import { useEffect, useSyncExternalStore } from "react";
import { IconButton } from "../ui";
import { useStoredState } from "./storage";

/**
 * Dev-only debug overlay. Views publish a snapshot of their internal state (the chat transport: SSE state,
 * cursor, active run and node, event counts, last heartbeat) with `useDebugReport`; the overlay shows every
 * published source. Available in `npm run dev`, or in a production build after
 * `localStorage.setItem("cybros.debug", "1")`.
 */
export type DebugSnapshot = Record<string, unknown>;

const sources = new Map<string, DebugSnapshot>();
const listeners = new Set<() => void>();
let version = 0;

function emit() {
  version++;
  for (const listener of listeners) listener();
}

export function debugAvailable(): boolean {
  if (import.meta.env.DEV) return true;
  try {
    return window.localStorage.getItem("cybros.debug") === "1";
  } catch {
    return false;
  }
}

/** Publishes `snapshot` under `source` while the caller is mounted (pass null to withdraw it). */
export function useDebugReport(source: string, snapshot: DebugSnapshot | null): void {
  useEffect(() => {
    if (!snapshot) return;
    sources.set(source, snapshot);
    emit();
  }, [source, snapshot]);
  useEffect(
    () => () => {
      sources.delete(source);
      emit();
    },
    [source],
  );
}

/** For code outside React (a transport class): publish or withdraw (null) a snapshot directly. */
export function reportDebug(source: string, snapshot: DebugSnapshot | null): void {
  if (snapshot) sources.set(source, snapshot);
  else sources.delete(source);
  emit();
}

function useSources(): Array<[string, DebugSnapshot]> {
  useSyncExternalStore(
    (notify) => {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    () => version,
  );
  return Array.from(sources.entries());
}

export function useDebugOverlay(): { available: boolean; shown: boolean; toggle: () => void } {
  const [shown, setShown] = useStoredState("cybros.debugOverlay", false);
  return { available: debugAvailable(), shown, toggle: () => setShown(!shown) };
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The panel itself; Ctrl+Shift+D (⌘⇧D) toggles it. Renders nothing outside development. */
export function DebugOverlay() {
  const { available, shown, toggle } = useDebugOverlay();
  const entries = useSources();

  useEffect(() => {
    if (!available) return;
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === "d") {
        e.preventDefault();
        toggle();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [available, toggle]);

  if (!available || !shown) return null;
  return (
    <section
      aria-label="Debug overlay"
      className="fixed right-3 bottom-3 z-[65] max-h-[50vh] w-80 overflow-y-auto rounded-xl border border-line bg-surface/95 p-3 font-mono text-[11px] text-fg shadow-xl backdrop-blur"
    >
      <div className="mb-2 flex items-center justify-between font-sans">
        <span className="inline-flex items-center gap-1.5 text-xs font-semibold">
          <Bug aria-hidden className="size-3.5" /> Debug
        </span>
        <IconButton label="Close debug overlay" size="sm" onClick={toggle}>
          <X />
        </IconButton>
      </div>
      {entries.length === 0 ? (
        <p className="font-sans text-xs text-fg-subtle">Nothing is reporting. Open a conversation.</p>
      ) : (
        entries.map(([source, snapshot]) => (
          <div key={source} className="mb-2 last:mb-0">
            <h3 className="mb-1 font-sans text-xs font-semibold text-fg-muted">{source}</h3>
            <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
              {Object.entries(snapshot).map(([key, value]) => (
                <div key={key} className="contents">
                  <dt className="text-fg-subtle">{key}</dt>
                  <dd className="break-all">{formatValue(value)}</dd>
                </div>
              ))}
            </dl>
          </div>
        ))
      )}
    </section>
  );
}
