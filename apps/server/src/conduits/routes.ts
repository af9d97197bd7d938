import {
  artifactUploadRequest,
  DIRECTIVE_TOKEN_HEADER,
  directiveFinishedRequest,
  directiveStartedRequest,
  enrollRequest,
  logChunkRequest,
  MAX_ARTIFACT_BYTES,
  pollRequest,
  territoryHeartbeatRequest,
} from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { storeArtifact } from "../artifacts/index.js";
import { RateLimiter } from "../auth/rate-limit.js";
import { territories } from "../db/schema.js";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../errors.js";
import { clientInfo } from "../http/session.js";
import { jsonBody } from "../http/validate.js";
import type { Services } from "../services.js";
import { poll } from "./claims.js";
import { enroll } from "./enrollment.js";
import {
  appendLogChunk,
  claimedDirective,
  directiveFinished,
  directiveHeartbeat,
  directiveStarted,
} from "./reports.js";
import { type TerritoryRow, territoryHeartbeat } from "./territories.js";
import { hashSecret } from "./tokens.js";

/** A log chunk is at most 256 KiB decoded; a diff 1 MiB: base64 and the JSON around them fit in this. */
const CONDUITS_BODY_LIMIT = 2 * 1024 * 1024;
/** An artifact is at most 10 MiB decoded: its base64 (4/3 of it) and the JSON around it fit in this. */
const ARTIFACT_BODY_LIMIT = Math.ceil((MAX_ARTIFACT_BYTES * 4) / 3) + 64 * 1024;

type ConduitsEnv = { Variables: { territory: TerritoryRow } };

/** The Conduits API a Nexus speaks, `/conduits/v1`: territory bearer tokens, not sessions. */
export function conduitsRoutes(services: Services) {
  const limits = {
    enroll: new RateLimiter(10, 60 * 60_000),
    heartbeat: new RateLimiter(30, 60_000),
    polls: new RateLimiter(600, 60_000),
    directives: new RateLimiter(30_000, 60_000),
  };
  const directive = (c: Context<ConduitsEnv>) =>
    claimedDirective(services, c.var.territory, c.req.param("id")!, c.req.header(DIRECTIVE_TOKEN_HEADER));

  const app = new Hono<ConduitsEnv>();
  const smallBody = bodyLimit({ maxSize: CONDUITS_BODY_LIMIT });
  const artifactBody = bodyLimit({ maxSize: ARTIFACT_BODY_LIMIT });
  app.use((c, next) => (c.req.path.endsWith("/artifacts") ? artifactBody(c, next) : smallBody(c, next)));
  app.post("/territories/enroll", async (c) => {
    // Counts failed attempts only: the limit is against guessing tokens, not against enrolling a fleet.
    const key = `ip:${clientInfo(c).ip ?? "local"}`;
    limits.enroll.hit(key);
    const enrolled = await enroll(services.db, await jsonBody(c, enrollRequest));
    limits.enroll.forgive(key);
    return c.json(enrolled, 201);
  });
  app.use(territoryAuth(services));
  app.post("/territories/heartbeat", async (c) => {
    limits.heartbeat.hit(c.var.territory.id);
    return c.json(await territoryHeartbeat(services.db, c.var.territory, await jsonBody(c, territoryHeartbeatRequest)));
  });
  app.post("/polls", async (c) => {
    limits.polls.hit(c.var.territory.id);
    return c.json(await poll(services, c.var.territory, await jsonBody(c, pollRequest), c.req.raw.signal));
  });
  app.use("/directives/*", async (c, next) => {
    limits.directives.hit(c.var.territory.id);
    await next();
  });
  app.post("/directives/:id/started", async (c) => {
    const body = await jsonBody(c, directiveStartedRequest);
    return c.json(await directiveStarted(services, await directive(c), body.nexus_version));
  });
  app.post("/directives/:id/heartbeat", async (c) => c.json(await directiveHeartbeat(services, await directive(c))));
  app.post("/directives/:id/log_chunks", async (c) => {
    const chunk = await jsonBody(c, logChunkRequest);
    return c.json(await appendLogChunk(services, await directive(c), chunk));
  });
  app.post("/directives/:id/artifacts", async (c) => {
    // The token first: a large body is read only for its own directive.
    const claimed = await directive(c);
    return c.json(await storeArtifact(services, claimed, await jsonBody(c, artifactUploadRequest)));
  });
  app.post("/directives/:id/finished", async (c) => {
    const report = await jsonBody(c, directiveFinishedRequest);
    return c.json(await directiveFinished(services, await directive(c), report));
  });
  app.all("*", (c) => {
    throw new NotFoundError(`Conduits route ${c.req.method} ${c.req.path}`);
  });
  return app;
}

/** `Authorization: Bearer <territory token>`; a revoked territory is refused on every call. */
function territoryAuth(services: Services): MiddlewareHandler<ConduitsEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!token) throw new UnauthorizedError("A territory token is required", "territory_token_required");
    const [territory] = await services.db
      .select()
      .from(territories)
      .where(eq(territories.tokenHash, hashSecret(token)));
    if (!territory) throw new UnauthorizedError("The territory token is not valid", "territory_token_invalid");
    if (territory.status === "revoked") throw new ForbiddenError("This territory was revoked", "territory_revoked");
    c.set("territory", territory);
    await next();
  };
}
