import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { resumeSession, type SessionLifetime } from "../auth/sessions.js";
import type { Current } from "../current.js";
import { ForbiddenError, UnauthorizedError } from "../errors.js";
import type { Services } from "../services.js";

export const SESSION_COOKIE = "cybros_session";

export type AppEnv = { Variables: { current?: Current } };

function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto");
  if (forwarded) return forwarded.split(",")[0]!.trim() === "https";
  return new URL(c.req.url).protocol === "https:";
}

export async function writeSessionCookie(c: Context, services: Services, token: string): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, token, services.cookieSecret, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    // The server ends it sooner when unused (sessionIdleMs); the browser may forget it at the absolute limit.
    maxAge: Math.floor(services.config.sessionMaxAgeMs / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

export function clientInfo(c: Context): { ip: string | null; userAgent: string | null } {
  let ip: string | null = null;
  try {
    ip = getConnInfo(c).remote.address ?? null;
  } catch {
    // No socket behind in-process requests (tests); the address is informational only.
  }
  return { ip, userAgent: c.req.header("user-agent") ?? null };
}

export function sessionLifetime(services: Services): SessionLifetime {
  return { idleMs: services.config.sessionIdleMs, maxAgeMs: services.config.sessionMaxAgeMs };
}

const MAX_VERIFIED_COOKIES = 1000;

/** Loads the session (if any) into c.var.current for everything downstream. */
export function loadSession(services: Services): MiddlewareHandler<AppEnv> {
  // Cookie values whose signature was checked, with what it said (the token, or false): WebCrypto takes about half
  // a millisecond of this thread per check, on every request. The same value always checks the same way.
  const verified = new Map<string, string | false>();
  const sessionToken = async (c: Context): Promise<string | undefined> => {
    const value = getCookie(c, SESSION_COOKIE);
    if (value === undefined) return undefined;
    let token = verified.get(value);
    if (token === undefined) {
      token = (await getSignedCookie(c, services.cookieSecret, SESSION_COOKIE)) || false;
      verified.set(value, token);
      if (verified.size > MAX_VERIFIED_COOKIES) verified.delete(verified.keys().next().value!);
    }
    return token || undefined;
  };
  return async (c, next) => {
    const token = await sessionToken(c);
    const current = token ? await resumeSession(services.db, token, sessionLifetime(services)) : undefined;
    if (current) c.set("current", current);
    return next();
  };
}

export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.var.current) throw new UnauthorizedError();
  return next();
};

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function requestHost(c: Context): string {
  return c.req.header("x-forwarded-host") ?? c.req.header("host") ?? new URL(c.req.url).host;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Writes must come from our own origin: the browser's Sec-Fetch-Site or Origin says so. Cookieless writes are
 * checked too (a page elsewhere could otherwise complete first-run setup). A request with neither header is
 * not from a browser's page, except a cookie-authenticated one must then carry the session's CSRF token.
 */
export const csrfProtection: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const site = c.req.header("sec-fetch-site");
  if (site === "same-origin") return next();
  if (site && site !== "none") throw new ForbiddenError("Cross-site request refused", "csrf_rejected");
  const origin = c.req.header("origin");
  if (origin) {
    if (originHost(origin) === requestHost(c)) return next();
    throw new ForbiddenError("Cross-site request refused", "csrf_rejected");
  }
  if (!c.req.header("cookie")?.includes(SESSION_COOKIE)) return next();
  const token = c.req.header("x-csrf-token");
  if (token && c.var.current && token === c.var.current.session.csrfToken) return next();
  throw new ForbiddenError("Missing CSRF token", "csrf_rejected");
};
