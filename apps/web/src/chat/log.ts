/**
 * Structured console logs for the chat stream (subscribe, reconnect, cursor, counts). Debug lines print only when
 * debugging is on; warnings always print but at most once per key per interval, so a stall is never silent and a
 * flapping connection never floods the console.
 */
export interface ChatLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(key: string, message: string, fields?: Record<string, unknown>): void;
}

export function isChatDebugEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem("cybros.debug") === "1";
  } catch {
    return false;
  }
}

export function createChatLogger(scope: string, options: { intervalMs?: number; now?: () => number } = {}): ChatLogger {
  const intervalMs = options.intervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  const lastWarned = new Map<string, number>();
  const suppressed = new Map<string, number>();
  return {
    debug(message, fields) {
      if (isChatDebugEnabled()) console.debug(`[${scope}] ${message}`, fields ?? {});
    },
    warn(key, message, fields) {
      const at = now();
      const last = lastWarned.get(key);
      if (last !== undefined && at - last < intervalMs) {
        suppressed.set(key, (suppressed.get(key) ?? 0) + 1);
        return;
      }
      const skipped = suppressed.get(key) ?? 0;
      suppressed.delete(key);
      lastWarned.set(key, at);
      console.warn(`[${scope}] ${message}`, skipped > 0 ? { ...fields, suppressed: skipped } : (fields ?? {}));
    },
  };
}
