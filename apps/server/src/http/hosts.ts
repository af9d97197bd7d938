import type { MiddlewareHandler } from "hono";

/** "Example.com:3000" → "example.com", "[::1]:3000" → "[::1]"; the port never matters. */
export function hostName(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * Answers only requests addressed to a configured host name. A DNS-rebinding page reaches 127.0.0.1 under its
 * own name, so its requests carry that name in Host: refusing them keeps the page out. A reverse proxy's
 * X-Forwarded-Host is checked the same way.
 */
export function allowedHostsOnly(allowed: readonly string[]): MiddlewareHandler {
  const names = new Set(allowed);
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const forwarded = c.req.header("x-forwarded-host")?.split(",")[0];
    for (const value of forwarded === undefined ? [host] : [host, forwarded]) {
      const name = hostName(value);
      if (names.has(name)) continue;
      return c.text(
        `This server does not answer to the host name "${name}". Add it to CYBROS_ALLOWED_HOSTS (comma-separated) or set CYBROS_PUBLIC_URL.\n`,
        421,
      );
    }
    return next();
  };
}
