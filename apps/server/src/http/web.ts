import fs from "node:fs";
import path from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, Hono } from "hono";
import { setupRequired } from "../auth/index.js";
import { repoRoot } from "../config.js";
import type { Services } from "../services.js";
import type { AppEnv } from "./session.js";

export const webDist = path.join(repoRoot, "apps/web/dist");

/** Pages anyone may see; every other page needs a session. */
const PUBLIC_PAGES = new Set(["/", "/login", "/setup"]);

/**
 * Where a page request should go instead, if anywhere. The SPA applies the same rules client-side; doing it
 * here too means a first visit lands on the right page without a flash.
 */
export async function pageRedirect(services: Services, c: Context<AppEnv>): Promise<string | undefined> {
  const pathname = c.req.path;
  if (await setupRequired(services.db)) return pathname === "/setup" ? undefined : "/setup";
  if (pathname === "/setup") return "/login";
  const signedIn = Boolean(c.var.current);
  if (signedIn && pathname === "/login") return "/conversations";
  if (!signedIn && !PUBLIC_PAGES.has(pathname)) return `/login?next=${encodeURIComponent(pathname)}`;
  return undefined;
}

/** Serves the built SPA: hashed assets with long caching, index.html for every other page path. */
export function mountWeb(app: Hono<AppEnv>, services: Services): void {
  const indexFile = path.join(webDist, "index.html");
  // Without a build (tests, a fresh clone before `npm start`) pages answer 503 below; no static routes needed.
  if (fs.existsSync(webDist)) mountStatic(app);
  app.get("*", async (c) => {
    const target = await pageRedirect(services, c);
    if (target) return c.redirect(target, 302);
    if (!fs.existsSync(indexFile)) {
      return c.text("The web app is not built yet: run `npm run build` (npm start does it for you).", 503);
    }
    c.header("Cache-Control", "no-cache");
    return c.html(await fs.promises.readFile(indexFile, "utf8"));
  });
}

function mountStatic(app: Hono<AppEnv>): void {
  app.use(
    "/assets/*",
    serveStatic({
      root: webDist,
      onFound: (_path, c) => {
        c.header("Cache-Control", "public, max-age=31536000, immutable");
      },
    }),
  );
  // Other built files (favicon, fonts from public/); "/" and page paths fall through to the SPA below.
  app.use("*", serveStatic({ root: webDist, index: "index-not-served-directly.html" }));
}
