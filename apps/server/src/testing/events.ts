import { isDeepStrictEqual } from "node:util";
import { type EventEnvelope, type EventKind, type EventOf, eventEnvelope } from "@cybros/protocol";
import { z } from "zod";
import type { TestClient } from "./harness.js";

interface Waiter {
  predicate: (e: EventEnvelope) => boolean;
  resolve: (e: EventEnvelope) => void;
  reject: (error: Error) => void;
}

/**
 * An SSE subscription read the way a browser reads it, for tests to await events instead of sleeping. Every
 * envelope is parsed with the event union: one whose payload does not match its kind's schema fails the test.
 */
export class EventStreamReader {
  readonly events: EventEnvelope[] = [];
  /** The first envelope that did not match its schema, with why. */
  invalid: Error | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly controller = new AbortController();
  readonly done: Promise<void>;
  lastEventId: string | undefined;

  constructor(response: Response) {
    this.done = this.read(response).catch(() => {});
  }

  static async open(client: TestClient, conversationId: string, cursor?: number, headers: Record<string, string> = {}) {
    const query = cursor === undefined ? "" : `?cursor=${cursor}`;
    const response = await client.get(`/api/conversations/${conversationId}/events${query}`, headers);
    if (response.status !== 200) throw new Error(`event stream answered ${response.status}`);
    return new EventStreamReader(response as unknown as Response);
  }

  private async read(response: Response): Promise<void> {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    this.controller.signal.addEventListener("abort", () => void reader.cancel());
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let index = buffer.indexOf("\n\n");
      while (index >= 0) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        index = buffer.indexOf("\n\n");
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        const id = block.split("\n").find((line) => line.startsWith("id:"));
        if (id) this.lastEventId = id.slice(3).trim();
        if (!data) continue;
        const received = JSON.parse(data);
        const parsed = eventEnvelope.safeParse(received);
        // Parsing drops keys the schema does not declare: a difference is one.
        if (!parsed.success || !isDeepStrictEqual(parsed.data, received)) {
          const why = parsed.success ? "it carries undeclared keys" : z.prettifyError(parsed.error);
          this.invalid = new Error(`an event does not match its schema: ${data}\n${why}`);
          for (const waiter of this.waiters.splice(0)) waiter.reject(this.invalid);
          return;
        }
        const event = parsed.data;
        this.events.push(event);
        for (const waiter of [...this.waiters]) {
          if (waiter.predicate(event)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      }
    }
  }

  /** Resolves with the first event (already seen or future) matching the predicate. */
  waitFor<T extends EventEnvelope>(predicate: (e: EventEnvelope) => e is T, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (e: EventEnvelope) => boolean, timeoutMs?: number): Promise<EventEnvelope>;
  waitFor(predicate: (e: EventEnvelope) => boolean, timeoutMs = 20_000): Promise<EventEnvelope> {
    if (this.invalid) return Promise.reject(this.invalid);
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; last events: ${this.events
                .slice(-20)
                .map((e) => e.kind)
                .join(", ")}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** The first event of a kind (already seen or future) that matches the predicate, typed as its kind. */
  waitForKind<K extends EventKind>(
    kind: K,
    predicate: (e: EventOf<K>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<EventOf<K>> {
    return this.waitFor((e): e is EventOf<K> => e.kind === kind && predicate(e as EventOf<K>), timeoutMs);
  }

  /** Waits until `count` runs have ended (succeeded, failed or canceled). */
  async runsEnded(count: number, timeoutMs = 30_000): Promise<EventEnvelope[]> {
    const ended = () =>
      this.events.filter((e) => e.kind === "run_succeeded" || e.kind === "run_failed" || e.kind === "run_canceled");
    if (ended().length >= count) return ended();
    await this.waitFor(() => ended().length >= count, timeoutMs);
    return ended();
  }

  close(): void {
    this.controller.abort();
  }
}
