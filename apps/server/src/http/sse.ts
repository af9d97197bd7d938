import type { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/** Where an SSE stream's text goes (the event stream, the mock LLM's completions). */
export interface SseSink {
  /** Undefined when the text was taken at once; a promise to wait on under backpressure (or until the client left). */
  write(text: string): Promise<void> | undefined;
  end(): void;
  /** Drops the connection after what was written: the client sees the body cut short. */
  cut(): void;
  /** Aborts when the client goes away or the stream ended. */
  closed: AbortSignal;
}

/**
 * Answers the request with an SSE stream that `serve` writes to: straight into Node's response when the request
 * came over a socket, else (in-process requests in tests) a web stream.
 */
export function sseResponse(c: Context, serve: (sink: SseSink) => void): Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing) {
    serve(nodeSseSink(outgoing));
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(webSseStream(serve), { status: 200, headers: SSE_HEADERS });
}

/** Straight into Node's response: no web-stream layers between a frame and the socket. */
export function nodeSseSink(res: ServerResponse): SseSink {
  const closing = new AbortController();
  res.on("close", () => closing.abort());
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  // Node corks the socket until the next tick; a long run of promise callbacks (a burst of provider chunks, query
  // results) would hold frames back until it ends. They go out as soon as the code that wrote them yields (a
  // microtask), together: several frames written in one go are one system call, not one each.
  let uncorkQueued = false;
  const uncork = () => {
    uncorkQueued = false;
    if (res.socket?.writableCorked) res.socket.uncork();
  };
  return {
    write: (text) => {
      const taken = res.write(text);
      if (!uncorkQueued && res.socket?.writableCorked) {
        uncorkQueued = true;
        queueMicrotask(uncork);
      }
      if (taken) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          closing.signal.removeEventListener("abort", done);
          resolve();
        };
        res.on("drain", done);
        closing.signal.addEventListener("abort", done, { once: true });
      });
    },
    end: () => res.end(),
    // Ending the socket flushes what was written, then the client sees the chunked body cut short.
    cut: () => res.socket?.end(),
    closed: closing.signal,
  };
}

function webSseStream(serve: (sink: SseSink) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const closing = new AbortController();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      serve({
        write: (text) => {
          if (!closing.signal.aborted) controller.enqueue(encoder.encode(text));
          return undefined;
        },
        end: () => {
          if (closing.signal.aborted) return;
          closing.abort();
          controller.close();
        },
        cut: () => {
          if (closing.signal.aborted) return;
          closing.abort();
          controller.error(new Error("SSE stream cut"));
        },
        closed: closing.signal,
      });
    },
    cancel: () => closing.abort(),
  });
}
