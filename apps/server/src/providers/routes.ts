import { modelListingInput, providerCreateInput, providerUpdateInput, storableText } from "@cybros/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/session.js";
import { jsonBody, queryParams } from "../http/validate.js";
import type { Services } from "../services.js";
import { checkConnection } from "./connection-check.js";
import {
  createProvider,
  deleteProvider,
  findProvider,
  listProviders,
  presentProvider,
  updateProvider,
} from "./index.js";
import { fetchModels } from "./model-listing.js";
import { resolutionsFor } from "./resolve.js";

const resolutionQuery = z.object({
  models: storableText()
    .default("")
    .transform((v) => [...new Set(v.split(",").map((m) => m.trim()))].filter((m) => m !== ""))
    .pipe(z.array(z.string()).max(100, "names at most 100 models")),
});

/**
 * /api/providers — LLM providers of the signed-in account. Answers never contain the API key or header values,
 * only `apiKeySet` and `headersSet` (names); both are sent only to the base URL they were saved with.
 *   GET    /                     → {providers: ProviderView[]} in resolution order
 *   POST   /                     ProviderCreateInput → 201 ProviderView
 *   GET    /:id                  → ProviderView
 *   PATCH  /:id                  ProviderUpdateInput → ProviderView (apiKey/headers omitted keep them; a new
 *                                baseUrl needs them sent again: 422 apiKey/headers)
 *   DELETE /:id                  → 204
 *   POST   /model-listing        ModelListingInput → ModelListingResult (Fetch Models, unsaved values)
 *   POST   /:id/connection-check → {check: ConnectionCheck, provider: ProviderView} (Test connection)
 *   GET    /resolution?models=a,b → ModelResolutionList (which provider serves each model now)
 */
export function providerRoutes(services: Services) {
  const { db } = services;
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const providers = await listProviders(db, c.var.current!.account);
      return c.json({ providers: providers.map(presentProvider) });
    })
    .post("/", async (c) => {
      const input = await jsonBody(c, providerCreateInput);
      const provider = await createProvider(services, c.var.current!.account, input);
      return c.json(presentProvider(provider), 201);
    })
    .post("/model-listing", async (c) => {
      const input = await jsonBody(c, modelListingInput);
      return c.json(await fetchModels(services, c.var.current!.account, input));
    })
    .get("/resolution", async (c) => {
      const { models } = queryParams(c, resolutionQuery);
      return c.json(await resolutionsFor(db, c.var.current!.account, models));
    })
    .get("/:id", async (c) => {
      return c.json(presentProvider(await findProvider(db, c.var.current!.account, c.req.param("id"))));
    })
    .patch("/:id", async (c) => {
      const input = await jsonBody(c, providerUpdateInput);
      const provider = await updateProvider(services, c.var.current!.account, c.req.param("id"), input);
      return c.json(presentProvider(provider));
    })
    .delete("/:id", async (c) => {
      await deleteProvider(db, c.var.current!.account, c.req.param("id"));
      return c.body(null, 204);
    })
    .post("/:id/connection-check", async (c) => {
      const { check, provider } = await checkConnection(services, c.var.current!.account, c.req.param("id"));
      return c.json({ check, provider: presentProvider(provider) });
    });
}
