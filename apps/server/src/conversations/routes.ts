import {
  type ConversationDetail,
  createConversationInput,
  postMessageInput,
  storableText,
  updateConversationInput,
} from "@cybros/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/session.js";
import { jsonBody, queryParams } from "../http/validate.js";
import { eventRoutes } from "../realtime/routes.js";
import { hookWarningsOf } from "../runs/steps/hooks.js";
import type { Services } from "../services.js";
import { workspaceShown } from "../workspaces/index.js";
import {
  activeRun,
  appendUserMessage,
  createConversation,
  deleteConversation,
  findOwned,
  listConversations,
  messagesPage,
  present,
  renameConversation,
  setArchived,
} from "./index.js";
import { modelWarningFor } from "./model-warning.js";

const listQuery = z.object({
  q: storableText().trim().max(200).optional(),
  archived: z.enum(["true", "false"]).optional(),
  before: storableText().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

const pageQuery = z.object({
  before: storableText().max(50).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export function conversationRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const query = queryParams(c, listQuery);
      return c.json(
        await listConversations(services, c.var.current!, { ...query, archived: query.archived === "true" }),
      );
    })
    .post("/", async (c) => {
      const input = await jsonBody(c, createConversationInput);
      return c.json(await createConversation(services, c.var.current!, input), 201);
    })
    .get("/:id", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      const detail: ConversationDetail = {
        conversation: await present(services, row),
        activeRun: await activeRun(services, row.id),
        modelWarning: await modelWarningFor(services, c.var.current!.account, row.agentProgramId),
        workspace: await workspaceShown(services, row),
      };
      return c.json(detail);
    })
    .patch("/:id", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      const input = await jsonBody(c, updateConversationInput);
      return c.json(await renameConversation(services, row, input.title));
    })
    .post("/:id/archival", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      return c.json(await setArchived(services, row, true));
    })
    .delete("/:id/archival", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      return c.json(await setArchived(services, row, false));
    })
    .delete("/:id", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      await deleteConversation(services, row);
      return c.body(null, 204);
    })
    .get("/:id/messages", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      const page = await messagesPage(services, row, queryParams(c, pageQuery));
      const runIds = new Set(page.messages.flatMap((m) => (m.runId ? [m.runId] : [])));
      return c.json({ ...page, hookWarnings: await hookWarningsOf(services, [...runIds]) });
    })
    .post("/:id/messages", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id"));
      const input = await jsonBody(c, postMessageInput);
      return c.json(await appendUserMessage(services, row, input), 202);
    })
    .route("/:id/events", eventRoutes(services));
}
