import type { Services } from "../services.js";

/** The facility a conversation's coding tools run in, on its territory. */
export interface Workspace {
  facilityId: string;
  /** The folder on the territory (null for a facility the Nexus keeps under its own data folder). */
  root: string | null;
  territory: { id: string; name: string; platform: string };
}

/**
 * PLACEHOLDER (branch h19-ops): the coordinator's workspaces module replaces this file at merge. The conversation's
 * workspace, else the agent's, else a scratch folder; `{missing}` says how to set one when there is none.
 */
export async function workspaceFor(
  _services: Services,
  _scope: { accountId: string; conversationId: string; agentId: string },
): Promise<Workspace | { missing: string }> {
  throw new Error("not implemented");
}
