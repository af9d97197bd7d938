import type { EventEnvelope } from "@cybros/protocol";
import type { TestClient } from "./harness.js";

/** An SSE subscription read the way a browser reads it, for tests to await events instead of sleeping. */
export class EventStreamReader {
  readonly events: EventEnvelope[] = [];
  private readonly waiters: { predicate: (e: EventEnvelope) => boolean; resolve: (e: EventEnvelope) => void }[] = [];
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
        const event = JSON.parse(data) as EventEnvelope;
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
  waitFor(predicate: (e: EventEnvelope) => boolean, timeoutMs = 20_000): Promise<EventEnvelope> {
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
      });
    });
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
