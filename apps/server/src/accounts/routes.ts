import { type AccountSettings, accountSettingsInput } from "@cybros/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../http/session.js";
import { jsonBody } from "../http/validate.js";
import type { Services } from "../services.js";
import { saveWebSearchSettings } from "../web-search/index.js";
import { settingsOf, updateSettings } from "./index.js";

/**
 * Mounted at /api/account. Answers never hold a secret: web search keys show only as `apiKeySet`.
 * GET   /settings                         → AccountSettings
 * PATCH /settings  AccountSettingsInput   → AccountSettings (only the keys sent change; 422 with fields)
 */
export function accountRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get("/settings", async (c) => {
      return c.json(settingsOf(c.var.current!.account) satisfies AccountSettings);
    })
    .patch("/settings", async (c) => {
      const { webSearch, ...rest } = await jsonBody(c, accountSettingsInput);
      let account = c.var.current!.account;
      // The web search choice first: it is the part that can still fail (a keyed backend without a key).
      if (webSearch) account = await saveWebSearchSettings(services, account, webSearch);
      const patch = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      if (Object.keys(patch).length) account = await updateSettings(services.db, account, patch);
      return c.json(settingsOf(account) satisfies AccountSettings);
    });
}
