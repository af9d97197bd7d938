import type { AgentSummary } from "@cybros/protocol";

const LAST_AGENT_KEY = "cybros.lastAgent";
const DEFAULT_PROFILE = "bundled:default-assistant";

/** The new-conversation composer, with an agent chosen (else the last used or the default one). */
export function newConversationPath(agentProgramId?: string): string {
  return agentProgramId ? `/conversations?agent=${encodeURIComponent(agentProgramId)}` : "/conversations";
}

/** The agent a new conversation starts with: the one asked for, else the last one used here, else the default. */
export function chooseAgent(agents: readonly AgentSummary[], requested: string | null): AgentSummary | null {
  const byId = (id: string | null) => (id ? agents.find((agent) => agent.id === id) : undefined);
  return (
    byId(requested) ??
    byId(lastUsedAgent()) ??
    agents.find((agent) => agent.profileSource === DEFAULT_PROFILE) ??
    agents[0] ??
    null
  );
}

export function rememberAgent(agentProgramId: string) {
  try {
    window.localStorage.setItem(LAST_AGENT_KEY, agentProgramId);
  } catch {
    // Storage disabled: the default agent is chosen next time.
  }
}

function lastUsedAgent(): string | null {
  try {
    return window.localStorage.getItem(LAST_AGENT_KEY);
  } catch {
    return null;
  }
}
