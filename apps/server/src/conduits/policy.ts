import type { DirectiveRequest } from "@cybros/protocol";
import type { Services } from "../services.js";

/** Placeholder until the policy engine lands: every directive is allowed as requested. */
export async function decideDirective(
  _services: Services,
  input: { accountId: string; agentProgramId: string | null; facilityId: string; request: DirectiveRequest },
): Promise<{
  decision: "allowed" | "needs_approval" | "forbidden";
  reasons: string[];
  network: "none" | "allowlist" | "open";
  driver: "host" | "bwrap";
}> {
  return { decision: "allowed", reasons: [], network: "open", driver: input.request.driver ?? "host" };
}
