import { Hono } from "hono";
import { z } from "zod";
import { settingsOf } from "../accounts/index.js";
import type { AppEnv } from "../http/session.js";
import { queryParams } from "../http/validate.js";
import { fetchRemoteImage } from "./index.js";

const remoteImageQuery = z.object({ url: z.string().trim().min(1, "is required").max(4_000, "is too long") });

/**
 * Mounted at /api/remote-image.
 * GET /?url=  → the image's bytes (raster types only, nosniff, no script); 403 private address, 413 too large,
 *               415 not an image, 422 bad URL, 502 the image's server failed
 */
export function remoteImageRoutes() {
  return new Hono<AppEnv>().get("/", async (c) => {
    const { url } = queryParams(c, remoteImageQuery);
    const image = await fetchRemoteImage(url, settingsOf(c.var.current!.account).webFetchAllowlist);
    return c.body(new Uint8Array(image.body), 200, {
      "content-type": image.contentType,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "content-disposition": "inline",
      "cache-control": "private, max-age=3600",
    });
  });
}
