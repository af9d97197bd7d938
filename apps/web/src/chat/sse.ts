/** One Server-Sent Events message (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/**
 * Incremental SSE parser: feed it decoded text as it arrives, in any split; it calls `onMessage` per dispatched
 * message and `onComment` per comment line (servers use `: ping` lines as keep-alives).
 */
export function createSseParser(handlers: {
  onMessage: (message: SseMessage) => void;
  onComment?: (text: string) => void;
  onRetry?: (ms: number) => void;
}) {
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | null = null;
  let sawField = false;

  function line(text: string) {
    if (text === "") {
      if (sawField && data.length > 0) handlers.onMessage({ event: event || "message", data: data.join("\n"), id });
      data = [];
      event = "";
      id = null;
      sawField = false;
      return;
    }
    if (text.startsWith(":")) {
      handlers.onComment?.(text.slice(1).trimStart());
      return;
    }
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    sawField = true;
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id") id = value.includes("\0") ? id : value;
    else if (field === "retry" && /^\d+$/.test(value)) handlers.onRetry?.(Number(value));
  }

  return {
    push(chunk: string) {
      buffer += chunk;
      let start = 0;
      for (;;) {
        const cr = buffer.indexOf("\r", start);
        const lf = buffer.indexOf("\n", start);
        if (cr === -1 && lf === -1) break;
        const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
        // A trailing lone CR may be the first half of CRLF: wait for the next chunk.
        if (end === cr && end === buffer.length - 1) break;
        line(buffer.slice(start, end));
        start = end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1);
      }
      buffer = buffer.slice(start);
    },
    /** Drops a half-received message (after a disconnect). */
    reset() {
      buffer = "";
      data = [];
      event = "";
      id = null;
      sawField = false;
    },
  };
}
