import { secureHeaders } from "hono/secure-headers";

/**
 * Headers on every response. The policy allows only this origin's scripts, styles, fonts and connections, and
 * images from here or inline data: a reply cannot load a remote image (an exfiltration channel), no inline
 * script runs, and no other site may frame the app.
 */
export const securityHeaders = secureHeaders({
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
