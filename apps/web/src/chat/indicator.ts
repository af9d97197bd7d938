/**
 * The streaming indicator of one run, anchored to the run's active assistant bubble:
 * idle → queued → streaming → completed | errored | canceled, with a `stuck` sub-state while streaming:
 * - "silent": nothing at all (no text, no tool event, no heartbeat) for `silentMs` — the server or the
 *   connection is in trouble;
 * - "stalled": heartbeats keep coming but no text or tool progress for `stalledMs` — the model is hanging.
 * New progress clears it. Terminal phases are final: a retry is a new run with its own indicator.
 * A streaming run can also be `waiting` (for a person's approval, a command on a territory…): it holds nothing and
 * sends no heartbeats then, so silence is expected and never makes it stuck; it ends when the run continues.
 */
export type IndicatorPhase = "idle" | "queued" | "streaming" | "completed" | "errored" | "canceled";
export type StuckReason = "silent" | "stalled";
/** What a waiting run waits for: a person's answer, a command running on a territory, or something else. */
export type Waiting = { for: "approval" } | { for: "directive"; territory: string | null } | { for: "other" };

export interface Indicator {
  phase: IndicatorPhase;
  stuck: StuckReason | null;
  /** Client clock (ms) of the last sign of life; the server's clock is never compared with ours. */
  lastSignalAt: number | null;
  /** Client clock (ms) of the last text or tool progress. */
  lastProgressAt: number | null;
  waiting: Waiting | null;
}

export type IndicatorInput =
  | { type: "queued"; at: number }
  | { type: "started"; at: number }
  /** Text or a tool event. */
  | { type: "progress"; at: number }
  /** A heartbeat: alive, but no progress. */
  | { type: "heartbeat"; at: number }
  | { type: "tick"; at: number }
  /** The run handed itself back until something outside it happens. */
  | { type: "waiting"; at: number; waiting: Waiting }
  /** The run continues after a wait (a step started, a tool answered). */
  | { type: "resumed"; at: number }
  | { type: "succeeded"; at: number }
  | { type: "failed"; at: number }
  | { type: "canceled"; at: number };

export interface StuckThresholds {
  silentMs: number;
  stalledMs: number;
}

/** The server heartbeats every 5 s while a run runs; 20 s of total silence means trouble. */
export const DEFAULT_THRESHOLDS: StuckThresholds = { silentMs: 20_000, stalledMs: 60_000 };

export const idleIndicator: Indicator = {
  phase: "idle",
  stuck: null,
  lastSignalAt: null,
  lastProgressAt: null,
  waiting: null,
};

const terminal: ReadonlySet<IndicatorPhase> = new Set(["completed", "errored", "canceled"]);

export function isTerminalPhase(phase: IndicatorPhase): boolean {
  return terminal.has(phase);
}

export function nextIndicator(
  state: Indicator,
  input: IndicatorInput,
  thresholds: StuckThresholds = DEFAULT_THRESHOLDS,
): Indicator {
  if (terminal.has(state.phase)) return state;
  const at = input.at;
  switch (input.type) {
    case "queued":
      return state.phase === "idle" ? { ...state, phase: "queued", lastSignalAt: at } : state;
    case "started":
      // Not a sign the wait ended: a resync's run summary says `running` all through a wait.
      if (state.phase === "streaming") return state;
      return { phase: "streaming", stuck: null, lastSignalAt: at, lastProgressAt: at, waiting: null };
    case "progress":
    case "resumed":
      if (state.phase === "streaming" && !state.stuck && !state.waiting && state.lastProgressAt === at) return state;
      return { phase: "streaming", stuck: null, lastSignalAt: at, lastProgressAt: at, waiting: null };
    case "waiting":
      if (state.phase === "streaming" && sameWaiting(state.waiting, input.waiting) && !state.stuck) return state;
      return { phase: "streaming", stuck: null, lastSignalAt: at, lastProgressAt: at, waiting: input.waiting };
    case "heartbeat": {
      if (state.phase !== "streaming") {
        return { phase: "streaming", stuck: null, lastSignalAt: at, lastProgressAt: at, waiting: null };
      }
      // A heartbeat clears silence, not a stall.
      const stuck = state.stuck === "silent" ? null : state.stuck;
      return { ...state, stuck, lastSignalAt: at };
    }
    case "tick": {
      if (state.phase !== "streaming" || state.stuck || state.waiting) return state;
      if (at - (state.lastSignalAt ?? at) >= thresholds.silentMs) return { ...state, stuck: "silent" };
      if (at - (state.lastProgressAt ?? at) >= thresholds.stalledMs) return { ...state, stuck: "stalled" };
      return state;
    }
    case "succeeded":
      return { ...state, phase: "completed", stuck: null, lastSignalAt: at, waiting: null };
    case "failed":
      return { ...state, phase: "errored", stuck: null, lastSignalAt: at, waiting: null };
    case "canceled":
      return { ...state, phase: "canceled", stuck: null, lastSignalAt: at, waiting: null };
  }
}

function sameWaiting(a: Waiting | null, b: Waiting): boolean {
  if (!a || a.for !== b.for) return false;
  return a.for !== "directive" || a.territory === (b as typeof a).territory;
}
