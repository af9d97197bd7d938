import { longText } from "../../apps/server/src/mock-llm/replies.js";
import type { BenchEvent, EventStream } from "../lib/client.js";
import { ResourceWatch } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { round } from "../lib/stats.js";
import { inBatches, startWorld } from "../lib/world.js";
import { failureOf } from "./latency.js";

/**
 * Rebuilds one reply the way a client must: live deltas applied by offset (each offset exactly once, in
 * order), persisted chunks and the final stream_complete checked against the same text, seqs never repeated.
 */
export class ReplyCheck {
  live = "";
  lost = 0;
  duplicated = 0;
  corrupted = 0;
  completed: string | undefined;
  private readonly seqs = new Set<number>();

  constructor(private readonly expected: string) {}

  apply(event: BenchEvent): void {
    if (event.seq !== null) {
      if (this.seqs.has(event.seq)) this.duplicated++;
      this.seqs.add(event.seq);
    }
    if (event.kind === "stream_complete") {
      this.completed = event.text ?? "";
      if (this.completed !== this.expected) this.corrupted++;
      return;
    }
    if (event.kind !== "stream_chunk") return;
    const text = event.text ?? "";
    const offset = Number(event.payload.offset);
    if (this.expected.slice(offset, offset + text.length) !== text) this.corrupted++;
    if (event.seq !== null) return;
    if (offset === this.live.length) this.live += text;
    else if (offset < this.live.length) this.duplicated++;
    else {
      // A hole: count it, then continue from this delta as a client that resyncs would.
      this.lost++;
      this.live = this.live.padEnd(offset, "\u0000") + text;
    }
  }

  /** Text that never arrived live at all (a cut-off tail). */
  missingTail(): number {
    return Math.max(0, this.expected.length - this.live.length);
  }
}

export const concurrencyScenario: Scenario = {
  name: "concurrency",
  title: "200 concurrent streaming conversations: nothing lost or doubled; RSS and CPU",
  postgres: true,
  async run(context: ScenarioContext) {
    const count = context.smoke ? 10 : 200;
    const kb = context.smoke ? 1 : 3;
    const delay = 10;
    const expected = longText(kb * 1024);
    const world = await startWorld(context);
    const { api, agentId } = world;
    const streams: EventStream[] = [];
    try {
      // Warm-up round on two conversations, not checked.
      const warm = await inBatches([0, 1], 2, () => api.createConversation(agentId));
      const warmStreams = await Promise.all(warm.map((id) => api.openEvents(id, () => {})));
      const warmRuns = await Promise.all(warm.map((id) => api.send(id, "/mock long kb=1 delay=2")));
      await Promise.all(warmRuns.map((r, i) => warmStreams[i]!.runEnded(r.runId)));
      for (const s of warmStreams) s.close();

      context.log(`concurrency: ${count} conversations × ${kb} KB in 16-character chunks, ${delay} ms apart`);
      const conversations = await inBatches(
        Array.from({ length: count }, () => 0),
        8,
        () => api.createConversation(agentId),
      );
      const checks = new Map<string, ReplyCheck>();
      for (const id of conversations) checks.set(id, new ReplyCheck(expected));
      streams.push(
        ...(await inBatches(conversations, 16, (id) =>
          api.openEvents(id, (event) => checks.get(event.conversation_id)!.apply(event)),
        )),
      );
      const watch = new ResourceWatch({ server: world.server.pid, mock: world.mock.pid, client: process.pid });
      const started = performance.now();
      const runs = await Promise.all(conversations.map((id) => api.send(id, `/mock long kb=${kb} delay=${delay}`)));
      const ends = await Promise.all(runs.map((r, i) => streams[i]!.runEnded(r.runId, 180_000)));
      const wallSeconds = (performance.now() - started) / 1000;
      const resources = watch.stop();
      for (const s of streams) s.close();

      // The transcript is the truth a reload shows: the finished reply must be exactly the text streamed.
      const transcriptWrong = (
        await inBatches(conversations, 8, async (id) => {
          const { messages } = await api.transcript(id);
          const reply = messages.findLast((m) => m.role === "assistant");
          return reply?.text === expected && reply.state === "completed" ? 0 : 1;
        })
      ).reduce((a: number, b) => a + b, 0);

      let lost = 0;
      let duplicated = 0;
      let corrupted = 0;
      let incomplete = 0;
      for (const check of checks.values()) {
        lost += check.lost + (check.missingTail() > 0 ? 1 : 0);
        duplicated += check.duplicated;
        corrupted += check.corrupted;
        if (check.completed === undefined) incomplete++;
      }
      const failedRuns = ends.filter((e) => e.kind !== "run_succeeded").length;
      const failures = [...new Set(ends.filter((e) => e.kind !== "run_succeeded").map(failureOf))].slice(0, 5);
      const correctness = (key: string, label: string, value: number): Metric => ({
        key: `concurrency.${key}`,
        label,
        unit: "",
        value,
        target: { op: "==", value: 0 },
        combine: "max",
        correctness: true,
      });
      const metrics: Metric[] = [
        correctness("lost", `${count} streams: lost chunks (holes or cut tails)`, lost),
        correctness("duplicated", `${count} streams: duplicated chunks`, duplicated),
        correctness("corrupted", `${count} streams: chunks differing from the reply`, corrupted + incomplete),
        correctness("transcript", `${count} streams: transcripts differing from the reply`, transcriptWrong),
        correctness("failed", `${count} streams: runs not succeeded`, failedRuns),
        {
          key: "concurrency.rss",
          label: `server RSS, ${count} streams (peak)`,
          unit: "MB",
          value: resources.peakRssMb,
        },
        {
          key: "concurrency.cpu",
          label: `server CPU, ${count} streams`,
          unit: "%",
          value: (resources.cpuCores.server ?? Number.NaN) * 100,
        },
        {
          key: "concurrency.wall",
          label: `${count} streams: send → all runs ended (ideal ≈ ${round((((kb * 1024) / 16) * delay) / 1000, 1)} s)`,
          unit: "s",
          value: wallSeconds,
        },
      ];
      return {
        metrics,
        details: {
          count,
          kb,
          delay,
          wallSeconds,
          resources,
          lost,
          duplicated,
          corrupted,
          incomplete,
          transcriptWrong,
          failedRuns,
          failures,
        },
      };
    } finally {
      for (const s of streams) s.close();
      await world.close();
    }
  },
};
