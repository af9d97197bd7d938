import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { every } from "hono/combine";
import { accountRoutes } from "../accounts/routes.js";
import { agentRoutes } from "../agents/routes.js";
import { artifactRoutes } from "../artifacts/routes.js";
import { authRoutes } from "../auth/routes.js";
import { policyRoutes } from "../conduits/policy-routes.js";
import { conduitsRoutes } from "../conduits/routes.js";
import { territoryRoutes } from "../conduits/territory-routes.js";
import { MAX_REQUEST_BODY_BYTES } from "../config.js";
import { conversationRoutes } from "../conversations/routes.js";
import { NotFoundError } from "../errors.js";
import { mockLlmInspectionRoutes, mockLlmRoutes } from "../mock-llm/index.js";
import { providerRoutes } from "../providers/routes.js";
import { remoteImageRoutes } from "../remote-images/routes.js";
import { approvalRoutes, directiveRoutes, runRoutes } from "../runs/routes.js";
import type { Services } from "../services.js";
import { version } from "../version.js";
import { errorResponder } from "./errors.js";
import { securityHeaders } from "./headers.js";
import { allowedHostsOnly } from "./hosts.js";
import { type AppEnv, csrfProtection, loadSession, requireSession } from "./session.js";
import { mountWeb } from "./web.js";

/** Composes every route. Order matters: public surfaces first, then the session-guarded API, then pages. */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(errorResponder(services.log));
  app.use(securityHeaders);
  app.use(allowedHostsOnly(services.config.allowedHosts));

  app.get("/up", (c) =>
    c.json({ status: "ok", version, database: services.database.kind, vector: services.database.vector }),
  );

  // The mock's provider API needs no key; what it logged of the owner's chats needs a session.
  if (services.mockLlm) {
    const signedIn = every(loadSession(services), csrfProtection, requireSession);
    app.route("/mock_llm/v1", mockLlmRoutes(services.mockLlm));
    app.route("/mock_llm/v1", mockLlmInspectionRoutes(services.mockLlm, signedIn));
  }

  // A Nexus authenticates with its territory token, not a session; the routes set their own body limit.
  app.route("/conduits/v1", conduitsRoutes(services));

  const api = new Hono<AppEnv>();
  api.use(bodyLimit({ maxSize: MAX_REQUEST_BODY_BYTES }));
  api.use(loadSession(services));
  api.use(csrfProtection);
  api.route("/", authRoutes(services));
  api.use(requireSession);
  api.route("/account", accountRoutes(services));
  api.route("/providers", providerRoutes(services));
  api.route("/agents", agentRoutes(services));
  api.route("/conversations", conversationRoutes(services));
  api.route("/runs", runRoutes(services));
  api.route("/approvals", approvalRoutes(services));
  api.route("/directives", directiveRoutes(services));
  api.route("/artifacts", artifactRoutes(services));
  api.route("/remote-image", remoteImageRoutes());
  api.route("/territories", territoryRoutes(services));
  api.route("/policies", policyRoutes(services));
  api.all("*", (c) => {
    throw new NotFoundError(`API route ${c.req.method} ${c.req.path}`);
  });
  app.route("/api", api);

  app.use(loadSession(services));
  mountWeb(app, services);
  return app;
}
