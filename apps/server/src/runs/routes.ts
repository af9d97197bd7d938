import { approvalAnswer } from "@cybros/protocol";
import { Hono } from "hono";
import { findOwned } from "../conversations/index.js";
import { presentRun } from "../conversations/present.js";
import type { AppEnv } from "../http/session.js";
import { jsonBody } from "../http/validate.js";
import type { Services } from "../services.js";
import { answerApproval, answerRunApproval } from "./approvals.js";
import { directiveOutputOf, latestRun, runDetail } from "./detail.js";
import { cancelRun, findRun, retryRun } from "./index.js";

export function runRoutes(services: Services) {
  // Ownership: a run is visible through its conversation only.
  const ownedRun = async (c: { var: AppEnv["Variables"] }, id: string) => {
    await services.runs.whenWritten(id);
    const run = await findRun(services, id);
    await findOwned(services, c.var.current!, run.conversationId);
    return run;
  };
  return new Hono<AppEnv>()
    .get("/latest", async (c) => c.json(await latestRun(services, c.var.current!)))
    .get("/:id", async (c) => {
      const run = await ownedRun(c, c.req.param("id"));
      return c.json({ run: presentRun(run), ...(await runDetail(services, run)) });
    })
    .post("/:id/cancellation", async (c) => c.json(await cancelRun(services, await ownedRun(c, c.req.param("id")))))
    .post("/:id/approval", async (c) => {
      const run = await ownedRun(c, c.req.param("id"));
      return c.json(await answerRunApproval(services, c.var.current!, run, await jsonBody(c, approvalAnswer)));
    })
    .post("/:id/retry", async (c) => c.json(await retryRun(services, await ownedRun(c, c.req.param("id"))), 202));
}

/** `POST /api/approvals/:id`: a person's answer to a tool call's approval request (runs/approvals.ts). */
export function approvalRoutes(services: Services) {
  return new Hono<AppEnv>().post("/:id", async (c) =>
    c.json(await answerApproval(services, c.var.current!, c.req.param("id"), await jsonBody(c, approvalAnswer))),
  );
}

/** `GET /api/directives/:id/output`: what a tool call's directive printed so far, for its card. */
export function directiveRoutes(services: Services) {
  return new Hono<AppEnv>().get("/:id/output", async (c) =>
    c.json(await directiveOutputOf(services, c.var.current!, c.req.param("id"))),
  );
}
