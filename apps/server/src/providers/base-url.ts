import { SERVER_RELATIVE_BASE_PATH } from "@cybros/protocol";
import { AppError } from "../errors.js";
import type { Services } from "../services.js";

/**
 * How this server reaches itself: a wildcard bind (0.0.0.0, ::) is reached through loopback, a specific address
 * as is. Recorded when the server starts listening (server.ts).
 */
export function reachableSelfUrl(address: string, port: number): string {
  if (address === "0.0.0.0" || address === "") return `http://127.0.0.1:${port}`;
  if (address === "::") return `http://[::1]:${port}`;
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}

export class SelfAddressUnknownError extends AppError {
  constructor() {
    super(
      "connection_error",
      "This server's built-in provider is reachable only once the server listens for HTTP connections",
      503,
    );
  }
}

export function isServerRelative(baseUrl: string): boolean {
  return baseUrl.startsWith(SERVER_RELATIVE_BASE_PATH);
}

/**
 * The absolute URL to call for a stored base URL. Server-relative ones (the built-in mock) go to this process's
 * live address, so a changed PORT or a test's random port never leaves a stale URL in the database
 * (docs/decisions/0002-built-in-mock-provider-address.md).
 */
export function reachableBaseUrl(services: Services, baseUrl: string): string {
  if (!isServerRelative(baseUrl)) return baseUrl;
  return `${selfUrl(services)}${baseUrl}`;
}

/**
 * The live address once listening; before that (runs reclaimed at boot start before `listen`) the configured
 * one, which the socket is about to take. Only a random port (0, tests) is unknowable until it is bound.
 */
function selfUrl(services: Services): string {
  if (services.self.url) return services.self.url;
  if (services.config.port !== 0) return reachableSelfUrl(services.config.host, services.config.port);
  throw new SelfAddressUnknownError();
}
