import type { HookWarning, RunError } from "@cybros/protocol";
import { type ChatMessage, type ChatState, type RunView, supersededRuns } from "./reconciler";

/**
 * What the message list shows, derived from the reconciled state: visible messages in order, each with the run
 * whose indicator, error and controls are anchored to it, plus a placeholder bubble for a run that has no
 * message yet (queued, starting, or failed before writing anything).
 */
export type TranscriptItem =
  | {
      type: "message";
      key: string;
      message: ChatMessage;
      anchor: RunView | null;
      /** Follows a reply of the same turn (the next step of a tool loop): shown as one reply. */
      continued: boolean;
      /** The hook warnings of its run, on the run's last visible reply. */
      hookWarnings?: readonly HookWarning[];
    }
  | { type: "pending"; key: string; run: RunView; hookWarnings?: readonly HookWarning[] };

export function transcriptItems(state: ChatState): TranscriptItem[] {
  const replaced = supersededRuns(state);
  const visible: ChatMessage[] = [];
  for (const id of state.order) {
    const message = state.messages.get(id)!;
    if (message.role === "assistant" && message.runId && replaced.has(message.runId)) continue;
    visible.push(message);
  }

  // Each run anchors to its active node when visible, else to its last visible reply.
  const anchorOf = new Map<string, RunView>();
  const lastReplyOf = new Map<string, string>();
  for (const message of visible) {
    if (message.role === "assistant" && message.runId) lastReplyOf.set(message.runId, message.id);
  }
  const orphans: RunView[] = [];
  for (const run of state.runs.values()) {
    if (replaced.has(run.id)) continue;
    const active = run.activeNodeId && state.messages.has(run.activeNodeId) ? run.activeNodeId : null;
    const anchor = active ?? lastReplyOf.get(run.id) ?? null;
    if (anchor) anchorOf.set(anchor, run);
    else if (run.state !== "succeeded") orphans.push(run);
  }

  const warningsAt = new Map<string, readonly HookWarning[]>();
  for (const [runId, warnings] of state.hookWarnings) {
    const last = lastReplyOf.get(runId);
    if (last) warningsAt.set(last, warnings);
  }

  const items: TranscriptItem[] = visible.map((message, index) => {
    const previous = visible[index - 1];
    const hookWarnings = warningsAt.get(message.id);
    return {
      type: "message",
      key: message.clientMessageId ?? message.id,
      message,
      anchor: anchorOf.get(message.id) ?? null,
      continued:
        message.role === "assistant" &&
        previous?.role === "assistant" &&
        previous.turnId !== null &&
        previous.turnId === message.turnId,
      ...(hookWarnings ? { hookWarnings } : {}),
    };
  });

  // A run without a message goes after the last message of its turn (its user message), else at the end.
  for (const run of orphans.sort((a, b) => (a.id < b.id ? -1 : 1))) {
    let index = -1;
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i]!;
      if (item.type === "message" && item.message.turnId === run.turnId) {
        index = i;
        break;
      }
    }
    const hookWarnings = state.hookWarnings.get(run.id);
    const pending: TranscriptItem = {
      type: "pending",
      key: `run:${run.id}`,
      run,
      ...(hookWarnings ? { hookWarnings } : {}),
    };
    if (index === -1) {
      const firstLocal = items.findIndex((item) => item.type === "message" && item.message.local);
      items.splice(firstLocal === -1 ? items.length : firstLocal, 0, pending);
    } else {
      items.splice(index + 1, 0, pending);
    }
  }
  return items;
}

/** What to tell people when a run fails, by error code; the server's message adds the detail. */
export function describeRunError(error: RunError | null): { title: string; detail: string | null } {
  if (!error) return { title: "The reply failed.", detail: null };
  const titles: Partial<Record<RunError["code"], string>> = {
    timeout: "The model took too long to answer.",
    connection_error: "Could not reach the model provider.",
    http_error: "The model provider returned an error.",
    rate_limited: "The model provider is rate limiting requests.",
    auth_failed: "The model provider rejected the API key.",
    context_too_long: "The conversation is too long for this model.",
    empty_response: "The model returned an empty reply.",
    no_provider_for_model: "No provider serves this agent’s models.",
    stale_run: "The reply stopped responding.",
    interrupted: "The server restarted while writing this reply.",
    tool_loop_limit: "The agent used tools too many times without answering.",
    agent_program_error: "The agent program has an error.",
    internal_error: "Something went wrong while writing this reply.",
  };
  const title = titles[error.code] ?? "The reply failed.";
  const detail = error.message && error.message !== title ? error.message : null;
  return { title, detail };
}
