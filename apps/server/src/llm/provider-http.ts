import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { version } from "../version.js";
import { connectionError, httpStatusError, LlmError } from "./errors.js";
import type { LlmProviderTarget } from "./provider.js";

/** Connections are reused across calls (a provider answers many runs); idle ones close after a while. */
const agents = {
  "http:": new http.Agent({ keepAlive: true, timeout: 60_000 }),
  "https:": new https.Agent({ keepAlive: true, timeout: 60_000 }),
};

const MAX_ERROR_BODY = 64 * 1024;

/**
 * POSTs JSON to the provider's `path` (under its base URL) over node:http. Resolves with a 2xx response, its body
 * unread (utf8); rejects with an LlmError (an HTTP error status, or no answer), or with the signal's reason once it
 * aborted: the caller, which owns the signal, tells an abort from a failure by it.
 */
export function postToProvider(
  provider: LlmProviderTarget,
  path: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const url = new URL(`${provider.baseUrl.replace(/\/+$/, "")}${path}`);
  const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (!transport) {
    return Promise.reject(new LlmError("connection_error", `Unsupported provider URL scheme ${url.protocol}`));
  }
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: "POST",
      agent: agents[url.protocol as keyof typeof agents],
      signal,
      headers: {
        "content-type": "application/json",
        accept: body.stream ? "text/event-stream" : "application/json",
        "user-agent": `cybros/${version}`,
        ...(provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {}),
        ...provider.headers,
        "content-length": Buffer.byteLength(text),
      },
    });
    req.on("error", (error) => {
      if (signal.aborted) reject(signal.reason);
      else reject(connectionError("Could not reach the provider", error));
    });
    req.on("response", (response) => {
      const status = response.statusCode ?? 0;
      response.setEncoding("utf8");
      if (status >= 200 && status < 300) {
        resolve(response);
        return;
      }
      readBody(response, MAX_ERROR_BODY).then(
        (errorBody) =>
          reject(
            httpStatusError({
              status,
              detail: errorDetail(errorBody, response.statusMessage),
              body: errorBody,
              retryAfter: response.headers["retry-after"],
              apiKey: provider.apiKey,
            }),
          ),
        (error) =>
          reject(signal.aborted ? signal.reason : connectionError("Could not read the provider's answer", error)),
      );
    });
    req.end(text);
  });
}

/** A whole JSON answer (not streamed). Rejects with an LlmError, or with the signal's reason once it aborted. */
export async function readJsonBody(response: IncomingMessage, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await readBody(response);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw connectionError("The connection broke while reading the answer", error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LlmError("invalid_response", `The provider sent a malformed response: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readBody(response: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<string> {
  let text = "";
  for await (const part of response) {
    if (text.length < limit) text += part;
  }
  return text.length > limit ? text.slice(0, limit) : text;
}

/** What an error body says: OpenAI's `{ error: { message } }`, a bare `{ message }`, or the status text. */
function errorDetail(text: string, statusMessage: string | undefined): string {
  try {
    const data = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof data.error === "string" ? data.error : (data.error?.message ?? data.message);
    if (typeof message === "string" && message) return message;
  } catch {
    // not JSON: fall through
  }
  return statusMessage || text.slice(0, 200) || "no details";
}
