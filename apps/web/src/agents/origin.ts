import type { AgentSummary } from "@cybros/protocol";

/**
 * What an agent was made from, for "From …": the profile's id, or the cloned repository's name; null for a
 * blank agent.
 */
export function agentOrigin(agent: Pick<AgentSummary, "profileSource">): string | null {
  const [kind, ...rest] = agent.profileSource.split(":");
  const value = rest.join(":");
  if (kind === "blank") return null;
  if (kind === "git") {
    const name = value.replace(/\/+$/, "").split("/").at(-1) ?? value;
    return name.replace(/\.git$/, "") || value;
  }
  return value || agent.profileSource;
}
