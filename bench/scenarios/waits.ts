import fs from "node:fs";
import { agentsRequiringApproval } from "../../apps/server/src/testing/agents.js";
import type { BenchEvent, EventStream } from "../lib/client.js";
import { ResourceWatch } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { epochNow, round, summarize } from "../lib/stats.js";
import { inBatches, startWorld } from "../lib/world.js";

/**
 * Runs that wait cost nothing: `count` runs each stop at a tool call waiting for approval, the server is watched
 * while they wait, then every approval is posted at once and each run's tool result is timed from its release.
 */
export const waitsScenario: Scenario = {
  name: "waits",
  title: "Runs waiting on an approval: server RSS and CPU while they wait, release → run continues",
  postgres: true,
  maxRuns: 1,
  async run(context: ScenarioContext) {
    const count = context.smoke ? 5 : 50;
    const holdMs = context.smoke ? 2_000 : 30_000;
    const agentsDir = agentsRequiringApproval(["skills_list"]);
    const world = await startWorld(context, { serverEnv: { CYBROS_AGENTS_DIR: agentsDir } });
    const { api, agentId } = world;
    try {
      const conversations = await inBatches(
        Array.from({ length: count }, () => 0),
        8,
        () => api.createConversation(agentId),
      );
      const waiting = new Map<string, () => void>();
      const seenWaiting = new Set<string>();
      const continuedAt = new Map<string, number>();
      const onEvent = (event: BenchEvent, at: number) => {
        if (!event.run_id) return;
        if (event.kind === "run_waiting") {
          seenWaiting.add(event.run_id);
          waiting.get(event.run_id)?.();
        }
        if (event.kind === "tool_result" && !continuedAt.has(event.run_id)) continuedAt.set(event.run_id, at);
      };
      const streams: EventStream[] = await inBatches(conversations, 16, (id) => api.openEvents(id, onEvent));
      try {
        const runs = await Promise.all(conversations.map((id) => api.send(id, "/mock tool_calls\nskills_list {}")));
        await Promise.all(
          runs.map(({ runId }) =>
            seenWaiting.has(runId) ? undefined : new Promise<void>((resolve) => waiting.set(runId, resolve)),
          ),
        );
        context.log(`waits: ${count} runs waiting; watching the server for ${holdMs / 1000} s`);
        const watch = new ResourceWatch({ server: world.server.pid });
        await new Promise((resolve) => setTimeout(resolve, holdMs)); // the measured window itself
        const idle = watch.stop();

        const releasedAt = new Map<string, number>();
        const release = (runId: string) => {
          releasedAt.set(runId, epochNow());
          return api.request("POST", `/api/runs/${runId}/approval`, { approved: true });
        };
        const latency = (runId: string) => (continuedAt.get(runId) ?? Number.NaN) - releasedAt.get(runId)!;
        // The common case: one wait ends while the others keep waiting. Then all the rest at once.
        const alone = runs.slice(0, Math.min(10, Math.floor(count / 5)));
        const together = runs.slice(alone.length);
        for (const [i, { runId }] of alone.entries()) {
          await release(runId);
          await streams[i]!.runEnded(runId, 60_000);
        }
        await Promise.all(together.map(({ runId }) => release(runId)));
        const ends = await Promise.all(runs.map(({ runId }, i) => streams[i]!.runEnded(runId, 120_000)));
        const failed = ends.filter((e) => e.kind !== "run_succeeded").length;
        const single = summarize(alone.map(({ runId }) => latency(runId)).filter((ms) => Number.isFinite(ms)));
        const continued = summarize(together.map(({ runId }) => latency(runId)).filter((ms) => Number.isFinite(ms)));
        const metrics: Metric[] = [
          {
            key: `waits.${count}.rss`,
            label: `server RSS, ${count} runs waiting (peak)`,
            unit: "MB",
            value: idle.peakRssMb,
          },
          {
            key: `waits.${count}.cpu`,
            label: `server CPU, ${count} runs waiting`,
            unit: "%",
            value: round((idle.cpuCores.server ?? Number.NaN) * 100, 2),
          },
          {
            key: `waits.${count}.continue-one.p50`,
            label: `approval posted → tool result at the client, one at a time (${alone.length}), p50`,
            unit: "ms",
            value: single.p50,
            target: { op: "<=", value: 100 },
          },
          {
            key: `waits.${count}.continue.p50`,
            label: `approval posted → tool result at the client, ${together.length} at once, p50`,
            unit: "ms",
            value: continued.p50,
          },
          {
            key: `waits.${count}.continue.p99`,
            label: `approval posted → tool result at the client, ${together.length} at once, p99`,
            unit: "ms",
            value: continued.p99,
          },
          {
            key: `waits.${count}.failed`,
            label: "runs not succeeded",
            unit: "",
            value: failed,
            target: { op: "==", value: 0 },
          },
        ];
        return { metrics, details: { idle, single, continued } };
      } finally {
        for (const stream of streams) stream.close();
      }
    } finally {
      await world.close();
      fs.rmSync(agentsDir, { recursive: true, force: true });
    }
  },
};
