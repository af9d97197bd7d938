import { savePolicyInput } from "@cybros/protocol";
import { Hono } from "hono";
import { findAgentProgram } from "../agents/index.js";
import type { AppEnv } from "../http/session.js";
import { jsonBody } from "../http/validate.js";
import type { Services } from "../services.js";
import { policiesView } from "./policy.js";
import { savePolicyLevel } from "./policy-levels.js";

/**
 * `/api/policies`, behind the session: what directives may do without asking, per level (decisions/0032).
 * GET → PoliciesView; PUT /account and PUT /agents/:agentId replace that level's rules (`{}` clears it) → PoliciesView.
 */
export function policyRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json(await policiesView(services.db, c.var.current!.account.id)))
    .put("/account", async (c) => {
      const rules = await jsonBody(c, savePolicyInput);
      const accountId = c.var.current!.account.id;
      await savePolicyLevel(services.db, { accountId, agentProgramId: null, rules });
      return c.json(await policiesView(services.db, accountId));
    })
    .put("/agents/:agentId", async (c) => {
      const agent = await findAgentProgram(services.db, c.var.current!.account, c.req.param("agentId"));
      const rules = await jsonBody(c, savePolicyInput);
      await savePolicyLevel(services.db, { accountId: agent.accountId, agentProgramId: agent.id, rules });
      return c.json(await policiesView(services.db, agent.accountId));
    });
}
