import type { EnrollmentTokenCreated } from "@cybros/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../http/session.js";
import type { Services } from "../services.js";
import { createEnrollmentToken } from "./enrollment.js";
import { listTerritories, presentTerritory, revokeTerritory } from "./territories.js";

/** `/api/territories`, behind the session: the machines of this account, enrolling one, revoking one. */
export function territoryRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const rows = await listTerritories(services.db, c.var.current!.account.id);
      return c.json({ territories: rows.map(presentTerritory) });
    })
    .post("/enrollment-tokens", async (c) => {
      const { token, expiresAt } = await createEnrollmentToken(services.db, c.var.current!.account.id);
      // The address another machine reaches this server at: the public URL when set, else the one asked.
      const server = services.config.env.CYBROS_PUBLIC_URL?.replace(/\/+$/, "") ?? new URL(c.req.url).origin;
      const command = `npx cybros-nexus enroll --server ${server} --token ${token}`;
      return c.json({ token, expiresAt: expiresAt.toISOString(), command } satisfies EnrollmentTokenCreated, 201);
    })
    .post("/:id/revocation", async (c) => {
      const revoked = await revokeTerritory(services, c.req.param("id"), c.var.current!.account.id);
      return c.json(presentTerritory(revoked));
    });
}
