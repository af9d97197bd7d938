import type { Db } from "../db/index.js";
import type { Logger } from "../log.js";
import type { EventDraft, Realtime } from "./index.js";

const FLUSH_INTERVAL_MS = 50;
const FLUSH_BYTES = 1024;

/**
 * One node's streaming text: delivered live delta by delta, persisted in coalesced chunks. A node still being
 * written (`unwritten`) streams live at once, but persists nothing until its row and message_created are in the
 * log (`release`): a persisted chunk never precedes its node. If they never get there, `abandon` withdraws what
 * clients were shown (decisions/0042).
 */
export class NodeStream {
  text = "";
  /** Characters already persisted as stream_chunk events. */
  persisted = 0;
  closed = false;

  constructor(
    readonly conversationId: string,
    readonly turnId: string,
    readonly runId: string,
    readonly nodeId: string,
    private readonly writer: StreamWriter,
    /** The node's row and message_created are still being written: text goes out live but is not persisted. */
    public unwritten: boolean,
  ) {}

  push(delta: string): void {
    if (this.closed || delta.length === 0) return;
    const offset = this.text.length;
    this.text += delta;
    this.writer.live(this, delta, offset);
  }

  /** The node is written: what arrived meanwhile is persisted with the next flush, as every later delta is. */
  release(): void {
    if (!this.unwritten) return;
    this.unwritten = false;
    if (this.text && !this.closed) this.writer.persistLater(this);
  }

  /** The text not yet persisted, for a subscriber that replayed the log and now needs the live tail. */
  unpersistedTail(): { offset: number; text: string } {
    return { offset: this.persisted, text: this.text.slice(this.persisted) };
  }
}

/**
 * Batches every stream's pending text into one write per tick: each delta reaches live subscribers at once,
 * while the database sees one multi-row insert per ~50 ms (or sooner when 1 KB is pending), however many
 * conversations are streaming. Keeps PGlite's single thread off the hot path.
 */
export class StreamWriter {
  private readonly open = new Map<string, NodeStream>();
  private readonly dirty = new Set<NodeStream>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly realtime: Realtime,
    private readonly log: Logger,
  ) {}

  /** `unwritten`: the node's row and message_created are still being written; the caller releases the stream after. */
  openStream(
    ids: { conversationId: string; turnId: string; runId: string; nodeId: string },
    options: { unwritten?: boolean } = {},
  ): NodeStream {
    const stream = new NodeStream(
      ids.conversationId,
      ids.turnId,
      ids.runId,
      ids.nodeId,
      this,
      options.unwritten ?? false,
    );
    this.open.set(ids.nodeId, stream);
    return stream;
  }

  /** The live stream of a node being produced in this process, if any. */
  streamOf(nodeId: string): NodeStream | undefined {
    return this.open.get(nodeId);
  }

  streamsOf(conversationId: string): NodeStream[] {
    return [...this.open.values()].filter((stream) => stream.conversationId === conversationId && !stream.closed);
  }

  live(stream: NodeStream, delta: string, offset: number): void {
    this.realtime.publishEphemeral({
      conversationId: stream.conversationId,
      turnId: stream.turnId,
      runId: stream.runId,
      nodeId: stream.nodeId,
      kind: "stream_chunk",
      text: delta,
      payload: { offset },
    });
    if (!stream.unwritten) this.persistLater(stream);
  }

  /** Persists the stream's new text with the next flush: within ~50 ms, or at once when 1 KB is pending. */
  persistLater(stream: NodeStream): void {
    this.dirty.add(stream);
    if (stream.text.length - stream.persisted >= FLUSH_BYTES) this.schedule(0);
    else this.schedule(FLUSH_INTERVAL_MS);
  }

  /**
   * Stops tracking a finished node without persisting its pending text: the caller records the full text in
   * stream_complete and compacts the chunks. Waits for an in-flight flush so no chunk lands after that.
   */
  async close(stream: NodeStream): Promise<void> {
    stream.closed = true;
    this.dirty.delete(stream);
    await this.flushing;
    this.open.delete(stream.nodeId);
  }

  /**
   * Drops a stream without persisting more (cancel): nothing further is broadcast for it. A node that was never
   * written is withdrawn from the clients that were shown its text.
   */
  abandon(stream: NodeStream): void {
    if (stream.unwritten && stream.text && !stream.closed) {
      this.realtime.publishEphemeral({
        conversationId: stream.conversationId,
        turnId: stream.turnId,
        runId: stream.runId,
        nodeId: stream.nodeId,
        kind: "stream_withdrawn",
        payload: {},
      });
    }
    stream.closed = true;
    this.dirty.delete(stream);
    this.open.delete(stream.nodeId);
  }

  /**
   * Drops a run's streams, answering the text each had, once no flush that took their text is still being
   * written: a chunk committed after the run's end would outlive its compaction and follow its stream_complete.
   */
  async abandonRun(runId: string): Promise<Map<string, string>> {
    const texts = new Map<string, string>();
    for (const stream of this.open.values()) {
      if (stream.runId !== runId) continue;
      texts.set(stream.nodeId, stream.text);
      this.abandon(stream);
    }
    if (texts.size > 0) await this.flushing;
    return texts;
  }

  private schedule(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** Serialized: one flush at a time, each taking everything pending when it starts. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = [...this.dirty];
    this.dirty.clear();
    const drafts: EventDraft[] = [];
    const ends: [NodeStream, number][] = [];
    for (const stream of batch) {
      const end = stream.text.length;
      if (end <= stream.persisted) continue;
      drafts.push({
        conversationId: stream.conversationId,
        turnId: stream.turnId,
        runId: stream.runId,
        nodeId: stream.nodeId,
        kind: "stream_chunk",
        text: stream.text.slice(stream.persisted, end),
        payload: { offset: stream.persisted },
      });
      ends.push([stream, end]);
    }
    if (drafts.length === 0) return;
    try {
      const events = await this.realtime.record(this.db, drafts);
      for (const [stream, end] of ends) stream.persisted = end;
      this.realtime.publish(events);
    } catch (error) {
      // Keep the text pending; the next tick retries. Live subscribers already have it.
      for (const [stream] of ends) if (!stream.closed || this.open.has(stream.nodeId)) this.dirty.add(stream);
      this.log.error({ err: error }, "stream flush failed");
      this.schedule(FLUSH_INTERVAL_MS * 4);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
