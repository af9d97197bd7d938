import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * Headers on every response. The policy allows only this origin's scripts, styles, fonts and connections, and
 * images from here or inline data: a reply cannot load a remote image (an exfiltration channel), no inline
 * script runs, and no other site may frame the app.
 */
const appHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:", "blob:"],
    fontSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xContentTypeOptions: "nosniff",
  xFrameOptions: "DENY",
  // A self-hosted install may sit behind HTTPS or not; pinning HTTPS for a whole domain is the proxy's call.
  strictTransportSecurity: false,
});

/** The app's headers on every response; a response that sets its own, stricter policy (remote image bytes) keeps it. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  let ownPolicy: string | null = null;
  await appHeaders(c, async () => {
    await next();
    ownPolicy = c.res.headers.get("content-security-policy");
  });
  if (ownPolicy) c.res.headers.set("content-security-policy", ownPolicy);
};
