import fs from "node:fs";
import type { ClaimedDirective } from "@cybros/protocol";
import { agentsAllowing, agentsRequiringApproval } from "../../apps/server/src/testing/agents.js";
import type { BenchEvent, EventStream } from "../lib/client.js";
import { ResourceWatch } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { epochNow, round, summarize } from "../lib/stats.js";
import { StubNexus } from "../lib/stub-nexus.js";
import { inBatches, startWorld, type World } from "../lib/world.js";

/** How runs are made to wait, and how a wait is ended. */
interface WaitKind {
  /** Metric keys: `waits.<count>.…` for approvals (the first kind measured), `waits.<key>.<count>.…` otherwise. */
  key: string;
  what: string;
  /** What a release is, in the metric labels. */
  released: string;
  agentsDir(): string;
  /** Readies the world and its conversations; answers the message that makes the i-th run wait, and how to end waits. */
  prepare(world: World, conversations: string[]): Promise<Waits>;
}

interface Waits {
  message(index: number): string;
  /** Called once every run waits. */
  allWaiting(): Promise<void>;
  release(index: number, runId: string): Promise<unknown>;
  close(): void;
}

const approvals: WaitKind = {
  key: "",
  what: "an approval",
  released: "approval posted",
  agentsDir: () => agentsRequiringApproval(["skills_list"]),
  async prepare(world) {
    return {
      message: () => "/mock tool_calls\nskills_list {}",
      allWaiting: async () => {},
      release: (_index, runId) => world.api.request("POST", `/api/runs/${runId}/approval`, { approved: true }),
      close: () => {},
    };
  },
};

/** A `bash` call runs as a directive on the bench's stub Nexus, which holds it until it is released. */
const directives: WaitKind = {
  key: "directive",
  what: "a directive",
  released: "directive reported finished",
  agentsDir: () => agentsAllowing(["workspace_set", "bash"]),
  async prepare(world, conversations) {
    const count = conversations.length;
    const nexus = await StubNexus.enroll(world.api, "Bench stub", Math.min(64, count));
    try {
      // A facility runs one directive at a time: each conversation gets its own folder on the stub's territory,
      // whose check is a directive the stub answers.
      await inBatches(conversations, 8, async (conversation, index) => {
        const folder = `/bench-stub/${index}`;
        const stream = await world.api.openEvents(conversation, () => {});
        const tool = { path: folder, territory: "Bench stub" };
        const { runId } = await world.api.send(conversation, `/mock tool_calls\nworkspace_set ${JSON.stringify(tool)}`);
        const [check] = await nexus.claim(1);
        await nexus.finish(check!, `${check!.spec.facility.root ?? folder}\n`);
        const end = await stream.runEnded(runId, 30_000);
        stream.close();
        if (end.kind !== "run_succeeded") throw new Error(`setting a stub workspace ended ${end.kind}`);
      });
    } catch (error) {
      nexus.close();
      throw error;
    }
    const held = new Map<number, ClaimedDirective>();
    const tag = (index: number) => `bench-wait-${index}`;
    return {
      message: (index) => `/mock tool_calls\nbash ${JSON.stringify({ command: `echo ${tag(index)}` })}`,
      async allWaiting() {
        for (const directive of await nexus.claim(count)) {
          const command = JSON.stringify(directive.spec.command);
          const index = Number(/bench-wait-(\d+)/.exec(command)?.[1]);
          if (!Number.isInteger(index)) throw new Error(`a directive the bench did not send: ${command}`);
          held.set(index, directive);
        }
      },
      release: (index) => nexus.finish(held.get(index)!, `${tag(index)}\n`),
      close: () => nexus.close(),
    };
  },
};

/**
 * Runs that wait cost nothing: `count` runs each stop at a tool call waiting for approval, then for a directive
 * held by a stub Nexus; the server is watched while they wait, then the waits end one at a time, then all at once,
 * and each run's tool result is timed from its release.
 */
export const waitsScenario: Scenario = {
  name: "waits",
  title: "Runs waiting on an approval or a directive: server RSS and CPU while they wait, release → run continues",
  postgres: true,
  maxRuns: 1,
  async run(context: ScenarioContext) {
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = {};
    for (const kind of [approvals, directives]) {
      const measured = await measureWaits(context, kind);
      metrics.push(...measured.metrics);
      details[kind.key || "approval"] = measured.details;
    }
    return { metrics, details };
  },
};

async function measureWaits(context: ScenarioContext, kind: WaitKind) {
  const count = context.smoke ? 5 : 50;
  const holdMs = context.smoke ? 2_000 : 30_000;
  const agentsDir = kind.agentsDir();
  const world = await startWorld(context, { serverEnv: { CYBROS_AGENTS_DIR: agentsDir } });
  const { api, agentId } = world;
  const conversations = await inBatches(
    Array.from({ length: count }, () => 0),
    8,
    () => api.createConversation(agentId),
  ).catch(async (error) => {
    await world.close();
    throw error;
  });
  const waits = await kind.prepare(world, conversations).catch(async (error) => {
    await world.close();
    throw error;
  });
  try {
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
      const runs = await Promise.all(conversations.map((id, i) => api.send(id, waits.message(i))));
      await Promise.all(
        runs.map(({ runId }) =>
          seenWaiting.has(runId) ? undefined : new Promise<void>((resolve) => waiting.set(runId, resolve)),
        ),
      );
      await waits.allWaiting();
      context.log(`waits: ${count} runs waiting on ${kind.what}; watching the server for ${holdMs / 1000} s`);
      const watch = new ResourceWatch({ server: world.server.pid });
      await new Promise((resolve) => setTimeout(resolve, holdMs)); // the measured window itself
      const idle = watch.stop();

      const releasedAt = new Map<string, number>();
      const release = (index: number) => {
        const { runId } = runs[index]!;
        releasedAt.set(runId, epochNow());
        return waits.release(index, runId);
      };
      const latency = (runId: string) => (continuedAt.get(runId) ?? Number.NaN) - releasedAt.get(runId)!;
      // The common case: one wait ends while the others keep waiting. Then all the rest at once.
      const alone = Math.min(10, Math.floor(count / 5));
      for (let i = 0; i < alone; i++) {
        await release(i);
        await streams[i]!.runEnded(runs[i]!.runId, 60_000);
      }
      await Promise.all(runs.slice(alone).map((_, i) => release(alone + i)));
      const ends = await Promise.all(runs.map(({ runId }, i) => streams[i]!.runEnded(runId, 120_000)));
      const failed = ends.filter((e) => e.kind !== "run_succeeded").length;
      const latencies = (from: number, to: number) =>
        runs
          .slice(from, to)
          .map(({ runId }) => latency(runId))
          .filter((ms) => Number.isFinite(ms));
      const single = summarize(latencies(0, alone));
      const continued = summarize(latencies(alone, count));
      const prefix = kind.key ? `waits.${kind.key}.${count}` : `waits.${count}`;
      const on = `on ${kind.what}`;
      const metrics: Metric[] = [
        {
          key: `${prefix}.rss`,
          label: `server RSS, ${count} runs waiting ${on} (peak)`,
          unit: "MB",
          value: idle.peakRssMb,
        },
        {
          key: `${prefix}.cpu`,
          label: `server CPU, ${count} runs waiting ${on}`,
          unit: "%",
          value: round((idle.cpuCores.server ?? Number.NaN) * 100, 2),
        },
        {
          key: `${prefix}.continue-one.p50`,
          label: `${kind.released} → tool result at the client, one at a time (${alone}), p50`,
          unit: "ms",
          value: single.p50,
          target: { op: "<=", value: 100 },
        },
        {
          key: `${prefix}.continue.p50`,
          label: `${kind.released} → tool result at the client, ${count - alone} at once, p50`,
          unit: "ms",
          value: continued.p50,
        },
        {
          key: `${prefix}.continue.p99`,
          label: `${kind.released} → tool result at the client, ${count - alone} at once, p99`,
          unit: "ms",
          value: continued.p99,
        },
        {
          key: `${prefix}.failed`,
          label: `runs waiting ${on} not succeeded`,
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
    waits.close();
    await world.close();
    fs.rmSync(agentsDir, { recursive: true, force: true });
  }
}
