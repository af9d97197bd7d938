import http from "node:http";
import type { BenchEvent, EventStream } from "../lib/client.js";
import { ResourceWatch, startRelay } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { epochNow, round, summarize } from "../lib/stats.js";
import { inBatches, startWorld, type World, warmUp } from "../lib/world.js";

const STAMP = /\[t=(\d+(?:\.\d+)?)\]/g;

/** The mock's send times (`/mock stamps`) in a piece of reply text. */
export function stampsIn(text: string): number[] {
  const out: number[] = [];
  for (const match of text.matchAll(STAMP)) out.push(Number(match[1]));
  return out;
}

/** Live text deltas carry no seq; persisted (coalesced) chunks do and are not what a watching client waits on. */
export function stampsOf(event: BenchEvent): number[] {
  if (event.kind !== "stream_chunk" || event.seq !== null || !event.text) return [];
  return stampsIn(event.text);
}

/** What a client can tell about a run that did not succeed. */
export function failureOf(event: BenchEvent): string {
  const error = event.payload?.error as { code?: string; message?: string } | undefined;
  return `${event.kind}${error ? ` ${error.code}: ${error.message}` : ""}`;
}

export interface StreamingRound {
  latencies: Float64Array;
  received: number;
  expected: number;
  failedRuns: number;
  /** Streams whose first chunk came over LATE_START_MS after the common start (their run started late). */
  lateStarts: number;
  /** "code: message" of each run that did not succeed. */
  failures: string[];
  resources: ReturnType<ResourceWatch["stop"]>;
}

/**
 * Lead before the common start: runs start one after another (on PGlite their statements share one thread), so
 * 100 sends take a second or two to all reach the provider.
 */
export const startLeadMs = (count: number) => 500 + 40 * count;
/** A stream whose first chunk came later than this after the common start overlapped the others less. */
export const LATE_START_MS = 100;

/**
 * `count` conversations each stream `chunks` stamped chunks `delay` ms apart. All are sent at once and every
 * stream's first chunk waits for one common moment (the mock's `start_at`) after all runs have started: without
 * it the first streams ended before the last began, and "100 streams" measured fewer at a time — the slower the
 * run starts, the fewer. Each live delta's stamp (the mock's send time) is subtracted from the time this process
 * read it off the socket. Resources are watched from the common start.
 */
export async function streamingRound(
  world: World,
  count: number,
  chunks: number,
  delay: number,
): Promise<StreamingRound> {
  const { api, agentId } = world;
  const conversations = await inBatches(
    Array.from({ length: count }, () => 0),
    8,
    () => api.createConversation(agentId),
  );
  const latencies = new Float64Array(count * chunks);
  const firstStamps: (number | undefined)[] = new Array(count);
  let received = 0;
  const onEvent = (index: number) => (event: BenchEvent, at: number) => {
    for (const stamp of stampsOf(event)) {
      firstStamps[index] ??= stamp;
      if (received < latencies.length) latencies[received] = at - stamp;
      received++;
    }
  };
  const streams: EventStream[] = await inBatches(conversations, 16, (id, index) => api.openEvents(id, onEvent(index)));
  try {
    const startAt = Math.ceil(epochNow() + startLeadMs(count));
    const sent = Promise.all(
      conversations.map((id) => api.send(id, `/mock stamps count=${chunks} delay=${delay} start_at=${startAt}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - epochNow())));
    const watch = new ResourceWatch({
      server: world.server.pid,
      mock: world.mock.pid,
      client: process.pid,
    });
    const runs = await sent;
    const ends = await Promise.all(
      runs.map(({ runId }, i) => streams[i]!.runEnded(runId, 60_000 + chunks * delay * 4)),
    );
    const resources = watch.stop();
    return {
      latencies: latencies.subarray(0, Math.min(received, latencies.length)),
      received,
      expected: count * chunks,
      failedRuns: ends.filter((e) => e.kind !== "run_succeeded").length,
      lateStarts: firstStamps.filter((stamp) => stamp === undefined || stamp > startAt + LATE_START_MS).length,
      failures: ends.filter((e) => e.kind !== "run_succeeded").map(failureOf),
      resources,
    };
  } finally {
    for (const stream of streams) stream.close();
  }
}

/** The same stamped streams through bench/floor-relay.ts: latencies of a relay that does nothing else. */
async function relayRound(relayUrl: string, count: number, chunks: number, delay: number): Promise<Float64Array> {
  const latencies: number[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const request = http.get(`${relayUrl}?count=${chunks}&delay=${delay}`, { agent: false }, (res) => {
            res.setEncoding("utf8");
            res.on("data", (text: string) => {
              const at = epochNow();
              for (const stamp of stampsIn(text)) latencies.push(at - stamp);
            });
            res.on("end", resolve);
            res.on("error", reject);
          });
          request.on("error", reject);
        }),
    ),
  );
  return Float64Array.from(latencies);
}

export const latencyScenario: Scenario = {
  name: "latency",
  title: "Added latency, provider chunk → SSE client",
  postgres: true,
  async run(context: ScenarioContext) {
    // BENCH_LATENCY_LEVELS=25 measures one level alone (diagnosis, e.g. with a CPU profile of the server).
    const levels = context.smoke ? [1, 5] : (process.env.BENCH_LATENCY_LEVELS?.split(",").map(Number) ?? [1, 25, 100]);
    const chunks = context.smoke ? 30 : 200;
    const delay = 10;
    const world = await startWorld(context);
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = { chunks, delayMs: delay };
    try {
      await warmUp(world);
      for (const level of levels) {
        context.log(`latency: ${level} stream(s) × ${chunks} chunks`);
        const round_ = await streamingRound(world, level, chunks, delay);
        if (round_.lateStarts > 0) {
          context.log(`latency: ${round_.lateStarts} of ${level} streams started after the common start`);
        }
        const s = summarize(round_.latencies);
        const targets: Record<number, { p50?: number; p99?: number }> = { 25: { p50: 1, p99: 6 }, 100: { p99: 25 } };
        const t = targets[level] ?? {};
        metrics.push(
          {
            key: `latency.${level}.p50`,
            label: `added latency, ${level} stream${level > 1 ? "s" : ""}, p50`,
            unit: "ms",
            value: s.p50,
            ...(t.p50 !== undefined ? { target: { op: "<=", value: t.p50 } } : {}),
          },
          {
            key: `latency.${level}.p99`,
            label: `added latency, ${level} stream${level > 1 ? "s" : ""}, p99`,
            unit: "ms",
            value: s.p99,
            ...(t.p99 !== undefined ? { target: { op: "<=", value: t.p99 } } : {}),
          },
          {
            key: `latency.${level}.cpu`,
            label: `server CPU, ${level} stream${level > 1 ? "s" : ""}`,
            unit: "%",
            value: (round_.resources.cpuCores.server ?? Number.NaN) * 100,
          },
        );
        if (level === 100 || (context.smoke && level === levels.at(-1))) {
          metrics.push({
            key: `latency.${level}.rss`,
            label: `server RSS, ${level} streams (peak)`,
            unit: "MB",
            value: round_.resources.peakRssMb,
            ...(level === 100 ? { target: { op: "<=" as const, value: 400 } } : {}),
          });
        }
        metrics.push({
          key: `latency.${level}.missing`,
          label: `stamped chunks not received, ${level} stream${level > 1 ? "s" : ""}`,
          unit: "",
          value: round_.expected - round_.received + round_.failedRuns,
          target: { op: "==", value: 0 },
          combine: "max",
          correctness: true,
        });
        details[`level${level}`] = {
          ...s,
          received: round_.received,
          expected: round_.expected,
          failedRuns: round_.failedRuns,
          lateStarts: round_.lateStarts,
          failures: [...new Set(round_.failures)].slice(0, 5),
          resources: {
            ...round_.resources,
            cpuCores: Object.fromEntries(Object.entries(round_.resources.cpuCores).map(([k, v]) => [k, round(v, 3)])),
          },
        };
      }
      // What this machine allows: the same streams through a relay with none of the server's work.
      const relay = await startRelay(world.mock);
      try {
        await relayRound(relay.url, 25, 20, 2);
        for (const level of levels) {
          const s = summarize(await relayRound(relay.url, level, chunks, delay));
          for (const [stat, value] of [
            ["p50", s.p50],
            ["p99", s.p99],
          ] as const) {
            metrics.push({
              key: `latency.floor.${level}.${stat}`,
              label: `relay floor (no server work), ${level} stream${level > 1 ? "s" : ""}, ${stat}`,
              unit: "ms",
              value,
            });
          }
          details[`floor${level}`] = s;
        }
      } finally {
        await relay.stop();
      }
    } finally {
      await world.close();
    }
    return { metrics, details };
  },
};
