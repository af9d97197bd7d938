import fs from "node:fs";
import { agentsAllowing } from "../../apps/server/src/testing/agents.js";
import type { BenchEvent, EventStream } from "../lib/client.js";
import { procSample } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { round, summarize } from "../lib/stats.js";
import { inBatches, startWorld } from "../lib/world.js";

const TEN_MB_COMMAND = "head -c 10000000 /dev/zero | tr '\\0' a";

/**
 * Tool calls that run on a Nexus (the server's embedded one, 4 slots, long-polling while idle):
 * - round trip: a `bash true` call's directive committed (run_waiting) → its result back in the run (tool_result);
 * - throughput: 100 such calls from 100 conversations at once, first directive → last result;
 * - a command printing 10 MB: what reaches the page (the output cap applies) and the server's RSS growth.
 */
export const directivesScenario: Scenario = {
  name: "directives",
  title: "Tool calls run as directives on the embedded Nexus: round trip, throughput, 10 MB of output",
  postgres: true,
  maxRuns: 1,
  async run(context: ScenarioContext) {
    const roundTrips = context.smoke ? 3 : 20;
    const burst = context.smoke ? 8 : 100;
    const agentsDir = agentsAllowing(["bash"]);
    const world = await startWorld(context, { serverEnv: { CYBROS_AGENTS_DIR: agentsDir, CYBROS_LOCAL_NEXUS: "on" } });
    const { api, agentId } = world;
    const waitingAt = new Map<string, number>();
    const resultAt = new Map<string, number>();
    const outputBytes = new Map<string, number>();
    const truncated = new Set<string>();
    const onEvent = (event: BenchEvent, at: number) => {
      if (!event.run_id) return;
      if (event.kind === "run_waiting" && !waitingAt.has(event.run_id)) waitingAt.set(event.run_id, at);
      if (event.kind === "tool_result" && !resultAt.has(event.run_id)) resultAt.set(event.run_id, at);
      if (event.kind === "directive_output") {
        outputBytes.set(event.run_id, (outputBytes.get(event.run_id) ?? 0) + Buffer.byteLength(event.text ?? ""));
      }
      if (event.kind === "directive_state" && event.payload.outputTruncated) truncated.add(event.run_id);
    };
    const streams: EventStream[] = [];
    const bash = (command: string) => `/mock tool_calls\nbash ${JSON.stringify({ command })}`;
    try {
      // Round trip, one call at a time in one conversation.
      const solo = await api.createConversation(agentId);
      const soloStream = await api.openEvents(solo, onEvent);
      streams.push(soloStream);
      const trips: number[] = [];
      for (let i = 0; i < roundTrips + 1; i++) {
        const { runId } = await api.send(solo, bash("true"));
        const end = await soloStream.runEnded(runId, 60_000);
        if (end.kind !== "run_succeeded") throw new Error(`round trip run ${runId} ended ${end.kind}`);
        if (i > 0) trips.push(resultAt.get(runId)! - waitingAt.get(runId)!); // the first warms the Nexus's poll
      }
      const trip = summarize(trips);
      context.log(`directives: round trip p50 ${round(trip.p50, 1)} ms`);

      // 10 MB of output: the cap applies on the way, and the server does not hold it all. Measured before the
      // burst below, whose own growth would otherwise be counted.
      const loud = await api.createConversation(agentId);
      const loudStream = await api.openEvents(loud, onEvent);
      streams.push(loudStream);
      const rssBefore = procSample(world.server.pid)?.rssMb ?? Number.NaN;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, procSample(world.server.pid)?.rssMb ?? 0);
      }, 50);
      const { runId: loudRun } = await api.send(loud, bash(TEN_MB_COMMAND));
      const loudEnd = await loudStream.runEnded(loudRun, 120_000);
      clearInterval(sampler);

      // Throughput: one call in each of `burst` conversations, all at once.
      const conversations = await inBatches(
        Array.from({ length: burst }, () => 0),
        16,
        () => api.createConversation(agentId),
      );
      const burstStreams = await inBatches(conversations, 16, (id) => api.openEvents(id, onEvent));
      streams.push(...burstStreams);
      const runs = await Promise.all(conversations.map((id) => api.send(id, bash("true"))));
      const ends = await Promise.all(runs.map(({ runId }, i) => burstStreams[i]!.runEnded(runId, 300_000)));
      const failed = ends.filter((e) => e.kind !== "run_succeeded").length;
      const firstWait = Math.min(...runs.map(({ runId }) => waitingAt.get(runId) ?? Number.POSITIVE_INFINITY));
      const lastResult = Math.max(...runs.map(({ runId }) => resultAt.get(runId) ?? Number.NaN));
      const perSecond = burst / ((lastResult - firstWait) / 1000);

      const metrics: Metric[] = [
        {
          key: "directives.roundtrip.p50",
          label: `directive committed → result in the run, bash true, one at a time (${trips.length}), p50`,
          unit: "ms",
          value: round(trip.p50, 1),
          target: { op: "<=", value: 150 },
        },
        {
          key: "directives.roundtrip.p90",
          label: "directive committed → result in the run, p90",
          unit: "ms",
          value: round(trip.p90, 1),
        },
        {
          key: `directives.burst.${burst}.per-second`,
          label: `${burst} calls at once on 4 slots: directives finished per second`,
          unit: "/s",
          value: round(perSecond, 1),
        },
        {
          key: `directives.burst.${burst}.failed`,
          label: "runs not succeeded",
          unit: "",
          value: failed,
          target: { op: "==", value: 0 },
        },
        {
          key: "directives.10mb.received",
          label: "command printing 10 MB: output received live by the page",
          unit: "MB",
          value: round((outputBytes.get(loudRun) ?? 0) / 1e6, 2),
          target: { op: "<=", value: 2 },
        },
        {
          key: "directives.10mb.rss-growth",
          label: "command printing 10 MB: server RSS growth (peak − before)",
          unit: "MB",
          value: round(rssPeak - rssBefore, 1),
          target: { op: "<=", value: 50 },
        },
        {
          key: "directives.10mb.ended",
          label: "command printing 10 MB: run succeeded and says its output was cut",
          unit: "",
          value: loudEnd.kind === "run_succeeded" && truncated.has(loudRun) ? 1 : 0,
          target: { op: "==", value: 1 },
        },
      ];
      return { metrics, details: { trip, burst: { count: burst, perSecond, failed } } };
    } finally {
      for (const stream of streams) stream.close();
      await world.close();
      fs.rmSync(agentsDir, { recursive: true, force: true });
    }
  },
};
