import {
  type CurrentUser,
  loginInput,
  passwordChangeInput,
  type SessionState,
  type SessionSummary,
  setupInput,
} from "@cybros/protocol";
import { Hono } from "hono";
import type { Current } from "../current.js";
import { NotFoundError } from "../errors.js";
import {
  type AppEnv,
  clearSessionCookie,
  clientInfo,
  requireSession,
  sessionLifetime,
  writeSessionCookie,
} from "../http/session.js";
import { jsonBody } from "../http/validate.js";
import type { Services } from "../services.js";
import { authenticate, changePassword, completeSetup, setupRequired } from "./index.js";
import { LoginLimits, RateLimiter } from "./rate-limit.js";
import { createSession, deleteExpiredSessions, endAllSessions, endSession, listSessions } from "./sessions.js";

function presentUser(current: Pick<Current, "user" | "identity">): CurrentUser {
  return {
    id: current.user.id,
    email: current.identity.email,
    role: current.user.role,
    displayName: current.user.displayName,
  };
}

export function authRoutes(services: Services) {
  const { db } = services;
  const loginLimits = new LoginLimits();
  // Wrong current passwords on a password change: a stolen session must not become a password guesser.
  const passwordChecks = new RateLimiter(5, 15 * 60_000);

  return new Hono<AppEnv>()
    .get("/session", async (c) => {
      const current = c.var.current;
      const state: SessionState = {
        setupRequired: await setupRequired(db),
        user: current ? presentUser(current) : null,
        csrfToken: current?.session.csrfToken ?? null,
      };
      return c.json(state);
    })
    .post("/setup", async (c) => {
      if (!(await setupRequired(db))) throw new NotFoundError("Setup");
      const input = await jsonBody(c, setupInput);
      const { identity, user } = await completeSetup(db, input);
      const { token } = await createSession(db, identity.id, clientInfo(c));
      await writeSessionCookie(c, services, token);
      services.log.info({ identityId: identity.id }, "first-run setup complete");
      return c.json({ user: presentUser({ identity, user }) }, 201);
    })
    .post("/session", async (c) => {
      const input = await jsonBody(c, loginInput);
      const client = clientInfo(c);
      const identity = await loginLimits.check(input.email, client.ip ?? "local", () => authenticate(db, input));
      await deleteExpiredSessions(db, sessionLifetime(services));
      const { token } = await createSession(db, identity.id, client);
      await writeSessionCookie(c, services, token);
      return c.json({ ok: true }, 201);
    })
    .delete("/session", requireSession, async (c) => {
      await endSession(db, c.var.current!.session.id);
      clearSessionCookie(c);
      return c.body(null, 204);
    })
    .get("/sessions", requireSession, async (c) => {
      const current = c.var.current!;
      await deleteExpiredSessions(db, sessionLifetime(services));
      const rows = await listSessions(db, current.identity.id);
      const list: SessionSummary[] = rows.map((s) => ({
        id: s.id,
        ip: s.ip,
        userAgent: s.userAgent,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        current: s.id === current.session.id,
      }));
      return c.json({ sessions: list });
    })
    .delete("/sessions", requireSession, async (c) => {
      const ended = await endAllSessions(db, c.var.current!.identity.id);
      clearSessionCookie(c);
      return c.json({ ended });
    })
    .put("/profile/password", requireSession, async (c) => {
      const current = c.var.current!;
      const input = await jsonBody(c, passwordChangeInput);
      passwordChecks.hit(current.identity.id);
      await changePassword(db, current.identity, input);
      passwordChecks.reset(current.identity.id);
      // Other devices may hold a leaked session; this one stays signed in.
      await endAllSessions(db, current.identity.id, current.session.id);
      return c.json({ ok: true });
    });
}
