import {
  agentListQuery,
  commitAgentChangesInput,
  createAgentInput,
  revertAgentCommitInput,
  saveAgentFileInput,
} from "@cybros/protocol";
import { Hono } from "hono";
import type { Account } from "../current.js";
import type { AppEnv } from "../http/session.js";
import { jsonBody, queryParams } from "../http/validate.js";
import type { Services } from "../services.js";
import { createAgent } from "./create.js";
import { describeAgentProgram } from "./detail.js";
import { findAgentProgram, listAgentPrograms, listProfiles, presentAgent } from "./index.js";
import {
  agentCommitDiffOf,
  agentHistoryOf,
  agentStatusOf,
  commitChangesOnDisk,
  deleteAgent,
  discardChangesOnDisk,
  listAgentFiles,
  readAgentFile,
  revertAgentCommit,
  saveAgentFile,
} from "./versions.js";

/**
 * Mounted at /api/agents.
 * GET  /agents?q=        → {agents: AgentSummary[]} bundled first, then by name
 * GET  /agents/profiles  → {profiles: AgentProfile[]} bundled programs new agents can be created from
 * POST /agents           {name, profile} | {name, gitUrl} | {name, blank: true} → 201 AgentSummary
 *                         (422 on name, profile, or gitUrl: not cloneable, or not a valid agent program)
 * GET  /agents/:id       → AgentDetail, with loadError instead of a failure when the program does not load
 * DELETE /agents/:id     → 204; its conversations stay readable (403 for a bundled agent)
 * GET  /agents/:id/files[/<path>]  → AgentFileList | AgentFileContent
 * PUT  /agents/:id/files/<path>    SaveAgentFileInput → AgentCommitResult (422 `content: file: line n: reason`)
 * GET  /agents/:id/status          → AgentStatus (uncommitted changes on disk)
 * POST /agents/:id/commits         {message} → AgentCommitResult;  DELETE /agents/:id/changes → 204 (discard)
 * GET  /agents/:id/history[/<sha>] → AgentHistory | AgentCommitDiff
 * POST /agents/:id/reverts         {commit} → 201 AgentCommitResult (409 with changes on disk or a conflict)
 * Writes to a bundled agent answer 403: a copy is edited instead.
 */
export function agentRoutes(services: Services) {
  const find = (id: string, account: Account) => findAgentProgram(services.db, account, id);
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
    })
    .delete("/:id", async (c) => {
      await deleteAgent(services, await find(c.req.param("id"), c.var.current!.account));
      return c.body(null, 204);
    })
    .get("/:id/files", async (c) => {
      return c.json(await listAgentFiles(await find(c.req.param("id"), c.var.current!.account)));
    })
    .get("/:id/files/:path{.+}", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      return c.json(await readAgentFile(program, c.req.param("path")));
    })
    .put("/:id/files/:path{.+}", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      const input = await jsonBody(c, saveAgentFileInput);
      return c.json({ commit: await saveAgentFile(services, program, c.req.param("path"), input) });
    })
    .get("/:id/status", async (c) => {
      return c.json(await agentStatusOf(await find(c.req.param("id"), c.var.current!.account)));
    })
    .post("/:id/commits", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      const { message } = await jsonBody(c, commitAgentChangesInput);
      return c.json({ commit: await commitChangesOnDisk(program, message) }, 201);
    })
    .delete("/:id/changes", async (c) => {
      await discardChangesOnDisk(await find(c.req.param("id"), c.var.current!.account));
      return c.body(null, 204);
    })
    .get("/:id/history", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      return c.json({ commits: await agentHistoryOf(program) });
    })
    .get("/:id/history/:sha", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      return c.json(await agentCommitDiffOf(program, c.req.param("sha")));
    })
    .post("/:id/reverts", async (c) => {
      const program = await find(c.req.param("id"), c.var.current!.account);
      const { commit } = await jsonBody(c, revertAgentCommitInput);
      return c.json({ commit: await revertAgentCommit(program, commit) }, 201);
    });
}
