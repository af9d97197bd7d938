import { agentListQuery, createAgentInput } from "@cybros/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../http/session.js";
import { jsonBody, queryParams } from "../http/validate.js";
import type { Services } from "../services.js";
import { createAgent } from "./create.js";
import { describeAgentProgram } from "./detail.js";
import { findAgentProgram, listAgentPrograms, listProfiles, presentAgent } from "./index.js";

/**
 * Mounted at /api/agents.
 * GET  /agents?q=        → {agents: AgentSummary[]} bundled first, then by name
 * GET  /agents/profiles  → {profiles: AgentProfile[]} bundled programs new agents can be created from
 * POST /agents           {name, profile} | {name, gitUrl} | {name, blank: true} → 201 AgentSummary
 *                         (422 on name, profile, or gitUrl: not cloneable, or not a valid agent program)
 * GET  /agents/:id       → AgentDetail, with loadError instead of a failure when the program does not load
 */
export function agentRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const { q } = queryParams(c, agentListQuery);
      const programs = await listAgentPrograms(services.db, c.var.current!.account, q);
      return c.json({ agents: programs.map(presentAgent) });
    })
    .get("/profiles", async (c) => {
      const profiles = await listProfiles(services.config, services.log);
      return c.json({ profiles: profiles.map(({ id, name, description }) => ({ id, name, description })) });
    })
    .post("/", async (c) => {
      const input = await jsonBody(c, createAgentInput);
      const program = await createAgent(services, c.var.current!.account, input);
      return c.json(presentAgent(program), 201);
    })
    .get("/:id", async (c) => {
      const account = c.var.current!.account;
      const program = await findAgentProgram(services.db, account, c.req.param("id"));
      return c.json(await describeAgentProgram(services, account, program));
    });
}
