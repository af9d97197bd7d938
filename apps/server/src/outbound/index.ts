import dns from "node:dns";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { bareHostname, isAllowlisted, isForbiddenAddress } from "./addresses.js";

/**
 * HTTP requests made on an agent's behalf (web_fetch, web_search backends). Every hop of a redirect chain is
 * checked: http(s) only, and a host that is not allowlisted must resolve to public addresses only. The socket
 * connects to the very address that was checked (a custom `lookup`), so DNS rebinding cannot slip in between.
 */

export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_REDIRECTS = 5;

export interface OutboundRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** The account's webFetchAllowlist: hosts agents may reach even though they are private. */
  allowlist: readonly string[];
  /** Decoded body bytes kept; the download stops there and the response says `truncated: "size"`. */
  maxBytes?: number;
  /**
   * For the whole exchange, redirects included. Reached before the answer, it is an error; reached while the
   * body arrives, the response keeps what came and says `truncated: "deadline"`.
   */
  timeoutMs?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Why the body is incomplete (the size cap, the deadline), or false when it is whole. */
  truncated: BodyCut | false;
}

export type BodyCut = "size" | "deadline";

export type OutboundErrorCode =
  | "invalid_url"
  | "forbidden_address"
  | "too_many_redirects"
  | "timeout"
  | "canceled"
  | "network";

/** Why a request was refused or failed; the message is safe to show a model. */
export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function outboundRequest(rawUrl: string, request: OutboundRequest): Promise<OutboundResponse> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = parseTarget(rawUrl);
  let method = request.method ?? "GET";
  let body = request.body;
  try {
    for (let hop = 0; ; hop++) {
      const response = await send(url, { ...request, method, body }, signal);
      const location = response.headers.location;
      if (response.statusCode! < 300 || response.statusCode! >= 400 || !location) {
        const { data, truncated } = await readBody(response, request.maxBytes ?? DEFAULT_MAX_BYTES, deadline, signal);
        return { url: url.toString(), status: response.statusCode!, headers: response.headers, body: data, truncated };
      }
      response.resume();
      if (hop >= maxRedirects) {
        throw new OutboundError("too_many_redirects", `Too many redirects (more than ${maxRedirects})`);
      }
      url = parseTarget(new URL(location, url).toString());
      // Like browsers: 303, and 301/302 after a POST, continue as a GET without the body.
      if (response.statusCode === 303 || (method === "POST" && response.statusCode! <= 302)) {
        method = "GET";
        body = undefined;
      }
    }
  } catch (error) {
    if (error instanceof OutboundError) throw error;
    if (deadline.aborted) throw new OutboundError("timeout", `Timed out after ${timeoutMs / 1000} s`);
    if (signal.aborted) throw new OutboundError("canceled", "The request was canceled");
    if (error instanceof ForbiddenResolution) throw error.outbound;
    const code = (error as NodeJS.ErrnoException).code;
    throw new OutboundError("network", `Could not reach ${url.host}${code ? ` (${code})` : ""}`);
  }
}

/** Parses and refuses what can be refused without the network: other schemes, credentials, private literals. */
function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError("invalid_url", `Not a valid URL: ${raw.slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundError("invalid_url", `Only http and https URLs can be fetched, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new OutboundError("invalid_url", "URLs with credentials are not fetched");
  }
  return url;
}

/**
 * The check for one hop, before any socket opens. IP literals are judged here (Node skips `lookup` for
 * them); names are judged by `guardedLookup` at connect time. Allowlisted hosts skip both.
 */
export function addressPolicy(url: URL, allowlist: readonly string[]): { lookup?: LookupFunction } {
  if (isAllowlisted(url, allowlist)) return {};
  const host = bareHostname(url);
  if (isIP(host)) {
    if (isForbiddenAddress(host)) throw forbidden(url.host, host);
    return {};
  }
  return { lookup: guardedLookup(url.host) };
}

function forbidden(host: string, address: string): OutboundError {
  const resolved = bareHostname(new URL(`http://${host}`)) === address ? "" : ` (resolves to ${address})`;
  return new OutboundError(
    "forbidden_address",
    `Refused: ${host}${resolved} is a private, loopback or link-local address. An administrator can allow it in ` +
      "System settings (web fetch allowlist).",
  );
}

/** Carries the refusal through Node's socket error path so it surfaces as itself, not as a network error. */
class ForbiddenResolution extends Error {
  constructor(readonly outbound: OutboundError) {
    super(outbound.message);
  }
}

function guardedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family, hints: options.hints }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) return callback(new ForbiddenResolution(forbidden(host, bad.address)), "", 0);
      if (options.all) return (callback as (e: null, all: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function send(url: URL, request: OutboundRequest & { method: string }, signal: AbortSignal): Promise<IncomingMessage> {
  const { lookup } = addressPolicy(url, request.allowlist);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: request.method,
      headers: { "accept-encoding": "gzip, deflate, br", ...request.headers },
      lookup,
      // A fresh connection per request: a pooled socket would skip the lookup check.
      agent: false,
      signal,
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end(request.body);
  });
}

/**
 * Reads at most `maxBytes` of the decoded body; past that, or at the deadline, the stream is dropped and what
 * came is kept, marked `truncated`. Cancellation is an error (nobody wants the part).
 */
function readBody(
  response: IncomingMessage,
  maxBytes: number,
  deadline: AbortSignal,
  signal: AbortSignal,
): Promise<{ data: Buffer; truncated: BodyCut | false }> {
  const encoding = String(response.headers["content-encoding"] ?? "").toLowerCase();
  const decoder: Readable =
    encoding === "gzip" || encoding === "x-gzip"
      ? response.pipe(zlib.createGunzip())
      : encoding === "deflate"
        ? response.pipe(zlib.createInflate())
        : encoding === "br"
          ? response.pipe(zlib.createBrotliDecompress())
          : response;
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  return new Promise((resolve, reject) => {
    const settle = (outcome: { truncated: BodyCut | false } | { error: unknown }) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      decoder.off("data", onData);
      response.destroy();
      if (decoder !== response) decoder.destroy();
      if ("error" in outcome) reject(outcome.error);
      else resolve({ data: Buffer.concat(chunks), truncated: outcome.truncated });
    };
    // An aborted request also errors its streams; whichever comes first settles, the rest find nothing to do.
    const onAbort = () => settle(deadline.aborted ? { truncated: "deadline" } : { error: signal.reason });
    const onError = (error: unknown) => settle(deadline.aborted ? { truncated: "deadline" } : { error });
    const onData = (buffer: Buffer) => {
      if (size + buffer.length > maxBytes) {
        chunks.push(buffer.subarray(0, maxBytes - size));
        return settle({ truncated: "size" });
      }
      chunks.push(buffer);
      size += buffer.length;
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    decoder.on("data", onData);
    decoder.once("end", () => settle({ truncated: false }));
    decoder.on("error", onError);
    if (decoder !== response) response.on("error", onError);
  });
}
