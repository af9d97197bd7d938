import type { EventEnvelope } from "@cybros/protocol";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { findOwned } from "../conversations/index.js";
import type { AppEnv } from "../http/session.js";
import { parseWith } from "../http/validate.js";
import type { Services } from "../services.js";

const KEEP_ALIVE_MS = 15_000;
const REPLAY_PAGE = 1000;
const cursorSchema = z.coerce.number().int().min(0, "must be a non-negative integer");

/**
 * GET …/events: SSE. Replays persisted events after the cursor (Last-Event-ID or ?cursor), then the unpersisted
 * tail of any reply streaming in this process, then live events. Subscribing before the replay and dropping
 * events at or below the sent cursor means nothing falls in a gap and nothing is sent twice.
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
      c.header("X-Accel-Buffering", "no");
      return streamSSE(c, async (stream) => {
        const pending: EventEnvelope[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = realtime.subscribe(row.id, (event) => {
          pending.push(event);
          wake?.();
        });
        let closed = false;
        stream.onAbort(() => {
          closed = true;
          unsubscribe();
          wake?.();
          log.info({ conversationId: row.id, cursor: sent }, "event stream closed");
        });
        let sent = cursor;
        const write = async (event: EventEnvelope) => {
          if (event.seq !== null) {
            if (event.seq <= sent) return;
            sent = event.seq;
          }
          await stream.writeSSE({
            data: JSON.stringify(event),
            ...(event.seq !== null ? { id: String(event.seq) } : {}),
          });
        };
        log.info({ conversationId: row.id, cursor, reconnect: lastEventId !== undefined }, "event stream subscribed");
        let replayed = 0;
        for (;;) {
          const page = await realtime.eventsAfter(services.db, row.id, sent, REPLAY_PAGE);
          for (const event of page) await write(event);
          replayed += page.length;
          if (page.length < REPLAY_PAGE) break;
        }
        realtime.noteReplayed(row.id, sent);
        for (const live of services.streams.streamsOf(row.id)) {
          const tail = live.unpersistedTail();
          if (!tail.text) continue;
          await write({
            conversation_id: row.id,
            turn_id: live.turnId,
            run_id: live.runId,
            node_id: live.nodeId,
            event_id: null,
            seq: null,
            kind: "stream_chunk",
            text: tail.text,
            payload: { offset: tail.offset },
            created_at: new Date().toISOString(),
          });
        }
        log.debug({ conversationId: row.id, replayed, cursor: sent }, "event stream replayed");
        while (!closed) {
          while (pending.length) await write(pending.shift()!);
          await new Promise<void>((resolve) => {
            wake = resolve;
            const timer = setTimeout(resolve, KEEP_ALIVE_MS);
            timer.unref();
            if (pending.length || closed) resolve();
          });
          wake = undefined;
          if (!pending.length && !closed) await stream.write(": keep-alive\n\n");
        }
      });
    })
    .get("/poll", async (c) => {
      const row = await findOwned(services, c.var.current!, c.req.param("id")!);
      const { cursor } = parseWith(z.object({ cursor: cursorSchema.default(0) }), { cursor: c.req.query("cursor") });
      const events = await realtime.eventsAfter(services.db, row.id, cursor, REPLAY_PAGE);
      return c.json({ events, cursor: events.at(-1)?.seq ?? cursor });
    });
}
