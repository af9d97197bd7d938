import type { EventEnvelope } from "@cybros/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { findOwned } from "../conversations/index.js";
import type { AppEnv } from "../http/session.js";
import { type SseSink, sseResponse } from "../http/sse.js";
import { parseWith } from "../http/validate.js";
import type { Services } from "../services.js";

const KEEP_ALIVE_MS = 15_000;
const REPLAY_PAGE = 1000;
const cursorSchema = z.coerce.number().int().min(0, "must be a non-negative integer");

function frame(event: EventEnvelope): string {
  // JSON.stringify never emits a raw newline, so the payload is always a single data line.
  return event.seq !== null
    ? `data: ${JSON.stringify(event)}\nid: ${event.seq}\n\n`
    : `data: ${JSON.stringify(event)}\n\n`;
}

/**
 * One subscriber: replays persisted events after the cursor, then the unpersisted tail of any reply streaming
 * in this process, then live events. It subscribes before the replay and drops events at or below the cursor it
 * sent, so nothing falls in a gap and nothing is sent twice. Once live, an event is written in the same tick it
 * is published; only backpressure queues it. A live event whose seq skips ahead means events were committed
 * that this process has not published (another process's, whose notification is still on its way, or a
 * concurrent writer's publish running late): they are read from the log first, so the stream stays in seq order
 * with nothing missing.
 */
function serveEvents(services: Services, conversationId: string, cursor: number, sink: SseSink): Promise<void> {
  const { realtime, log } = services;
  let sent = cursor;
  let live = false;
  let blocked: Promise<void> | undefined;
  let lastWrite = Date.now();
  const queue: EventEnvelope[] = [];

  /** While set, the log is being read to fill a gap: live events wait in the queue. */
  let filling = false;
  /** Gaps below this are (being) filled from the log; what is missing there after that was compacted away. */
  let filledThrough = 0;

  /**
   * Per node streaming here, the text range this subscriber was sent as live deltas (or as the unpersisted tail):
   * a persisted chunk inside it carries nothing new, so only the cursor moves (decisions/0011). A client that
   * resumes from an older cursor replays those chunks and places them by offset, so nothing doubles.
   */
  const liveText = new Map<string, { from: number; to: number }>();

  /** False when the event is a persisted chunk this subscriber already holds in full. */
  const carriesNews = (event: EventEnvelope): boolean => {
    if (event.kind === "stream_complete" && event.node_id) liveText.delete(event.node_id);
    if (event.kind !== "stream_chunk" || !event.node_id || typeof event.text !== "string") return true;
    const offset = Number((event.payload as { offset?: unknown }).offset);
    if (!Number.isInteger(offset)) return true;
    const end = offset + event.text.length;
    const range = liveText.get(event.node_id);
    if (event.seq !== null) return !(range && offset >= range.from && end <= range.to);
    if (range && offset >= range.from && offset <= range.to) range.to = Math.max(range.to, end);
    else liveText.set(event.node_id, { from: offset, to: end });
    return true;
  };

  const send = (event: EventEnvelope): void => {
    if (sink.closed.aborted) return;
    if (event.seq !== null) {
      if (event.seq <= sent) return;
      if (live && event.seq > sent + 1 && event.seq > filledThrough) {
        queue.unshift(event);
        fillGapBefore(event.seq);
        return;
      }
      sent = event.seq;
    }
    if (!carriesNews(event)) return;
    lastWrite = Date.now();
    const waiting = sink.write(frame(event));
    if (!waiting) return;
    blocked = waiting;
    void waiting.then(() => {
      blocked = undefined;
      drain();
    });
  };
  const drain = () => {
    while (queue.length && !blocked && !filling && !sink.closed.aborted) send(queue.shift()!);
  };
  /** Sends the logged events between the cursor and `seq`, then whatever waited. */
  const fillGapBefore = (seq: number): void => {
    filling = true;
    filledThrough = seq;
    const fill = async () => {
      const missing = await realtime.eventsAfter(services.db, conversationId, sent, Math.min(seq - sent - 1, 1000));
      for (const event of missing) {
        if (event.seq! >= seq) break;
        send(event);
        if (blocked) await blocked;
      }
    };
    fill()
      .catch((error) => log.warn({ err: error, conversationId }, "event stream gap fill failed"))
      .finally(() => {
        filling = false;
        drain();
      });
  };

  const unsubscribe = realtime.subscribe(conversationId, (event) => {
    if (!live || blocked || filling || queue.length) queue.push(event);
    else send(event);
  });
  const keepAlive = setInterval(() => {
    if (blocked || Date.now() - lastWrite < KEEP_ALIVE_MS) return;
    lastWrite = Date.now();
    void sink.write(": keep-alive\n\n");
  }, KEEP_ALIVE_MS / 3);
  keepAlive.unref();

  const closed = new Promise<void>((resolve) => {
    const close = () => {
      clearInterval(keepAlive);
      unsubscribe();
      log.debug({ conversationId, cursor: sent }, "event stream closed");
      resolve();
    };
    if (sink.closed.aborted) close();
    else sink.closed.addEventListener("abort", close, { once: true });
  });

  const replay = async () => {
    let replayed = 0;
    for (;;) {
      const page = await realtime.eventsAfter(services.db, conversationId, sent, REPLAY_PAGE);
      for (const event of page) {
        send(event);
        if (blocked) await blocked;
      }
      replayed += page.length;
      if (page.length < REPLAY_PAGE || sink.closed.aborted) break;
    }
    realtime.noteReplayed(conversationId, sent);
    for (const stream of services.streams.streamsOf(conversationId)) {
      const tail = stream.unpersistedTail();
      if (!tail.text) continue;
      send({
        conversation_id: conversationId,
        turn_id: stream.turnId,
        run_id: stream.runId,
        node_id: stream.nodeId,
        event_id: null,
        seq: null,
        kind: "stream_chunk",
        text: tail.text,
        payload: { offset: tail.offset },
        created_at: new Date().toISOString(),
      });
    }
    log.debug({ conversationId, replayed, cursor: sent }, "event stream replayed");
    live = true;
    drain();
  };
  replay().catch((error) => {
    log.error({ err: error, conversationId }, "event stream replay failed");
    sink.end();
  });
  return closed;
}

/**
 * GET …/events: SSE (`id:` is the seq). Replays persisted events after the cursor (Last-Event-ID or ?cursor),
 * then the unpersisted tail of any reply streaming in this process, then live events.
 * GET …/events/poll: the same envelopes for clients that cannot hold a stream open.
 */
export function eventRoutes(services: Services) {
  const { realtime, log } = services;
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id")!);
      const lastEventId = c.req.header("last-event-id");
      const cursor = parseWith(z.object({ cursor: cursorSchema.default(0) }), {
        cursor: lastEventId ?? c.req.query("cursor") ?? undefined,
      }).cursor;
      log.debug({ conversationId: row.id, cursor, reconnect: lastEventId !== undefined }, "event stream subscribed");
      return sseResponse(c, (sink) => void serveEvents(services, row.id, cursor, sink));
    })
    .get("/poll", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id")!);
      const { cursor } = parseWith(z.object({ cursor: cursorSchema.default(0) }), { cursor: c.req.query("cursor") });
      const events = await realtime.eventsAfter(services.db, row.id, cursor, REPLAY_PAGE);
      return c.json({ events, cursor: events.at(-1)?.seq ?? cursor });
    });
}
