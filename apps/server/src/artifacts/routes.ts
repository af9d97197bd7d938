import { Hono } from "hono";
import type { AppEnv } from "../http/session.js";
import type { Services } from "../services.js";
import { ownedArtifact } from "./index.js";

/**
 * Mounted at /api/artifacts.
 * GET /:id → the artifact's bytes with its content type, nosniff and a sandbox policy (nothing in it can run);
 *            404 when it is not the person's
 */
export function artifactRoutes(services: Services) {
  return new Hono<AppEnv>().get("/:id", async (c) => {
    const artifact = await ownedArtifact(services, c.var.current!, c.req.param("id"));
    const disposition = artifact.contentType === "application/octet-stream" ? "attachment" : "inline";
    return c.body(new Uint8Array(artifact.bytes), 200, {
      "content-type": artifact.contentType,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      // Names are plain file names (artifactName): nothing to escape.
      "content-disposition": `${disposition}; filename="${artifact.name}"`,
      "cache-control": "private, max-age=3600",
    });
  });
}
