import http from "node:http";
import { Api, type BenchEvent, type EventStream } from "../lib/client.js";
import { startRelay } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { epochNow, summarize } from "../lib/stats.js";
import { inBatches, mockRequests, startWorld, type World, warmUp } from "../lib/world.js";
import { stampsOf } from "./latency.js";

interface Probe {
  tag: string;
  conversationId: string;
  stream?: EventStream;
  sentAt?: number;
  firstAt?: number;
  firstStamp?: number;
}

/**
 * Sends one message to each probe's conversation at once. For each: client send → first live chunk read, minus
 * the mock's own time to first token (its first stamped chunk's send time − when it received the request).
 */
async function measure(
  world: World,
  probes: Probe[],
): Promise<{ overhead: number[]; raw: number[]; provider: number[]; request: number[] }> {
  const { api } = world;
  await inBatches(probes, 16, async (probe) => {
    probe.stream = await api.openEvents(probe.conversationId, (event: BenchEvent, at) => {
      if (probe.firstAt !== undefined) return;
      const [stamp] = stampsOf(event);
      if (stamp === undefined) return;
      probe.firstAt = at;
      probe.firstStamp = stamp;
    });
  });
  const runs = await Promise.all(
    probes.map((probe) => {
      probe.sentAt = epochNow();
      return api.send(probe.conversationId, `/mock stamps count=3 delay=5\n${probe.tag}`);
    }),
  );
  await Promise.all(runs.map((r, i) => probes[i]!.stream!.runEnded(r.runId, 120_000)));
  for (const probe of probes) probe.stream!.close();
  const received = new Map((await mockRequests(world.mock)).map((r) => [r.tag, r.receivedAt]));
  const overhead: number[] = [];
  const raw: number[] = [];
  const provider: number[] = [];
  const request: number[] = [];
  for (const probe of probes) {
    const receivedAt = received.get(probe.tag);
    if (receivedAt === undefined || probe.firstAt === undefined) throw new Error(`probe ${probe.tag} saw no chunk`);
    const total = probe.firstAt - probe.sentAt!;
    const own = probe.firstStamp! - receivedAt;
    raw.push(total);
    provider.push(own);
    overhead.push(total - own);
    request.push(receivedAt - probe.sentAt!);
  }
  return { overhead, raw, provider, request };
}

/**
 * The floor under send → provider request: this client's POST straight to the mock, one hop (a new connection, as
 * every bench request makes), timed to the mock's receivedAt. The server's own share of send → request is about
 * that minus this floor and its own hop to the provider.
 */
async function requestFloor(world: World, count: number): Promise<number[]> {
  const direct = new Api(world.mock.baseUrl);
  const sent = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const tag = `floor-${process.pid}-${i}-${Math.random().toString(36).slice(2, 8)}`;
    sent.set(tag, epochNow());
    await direct.request("POST", `${world.mock.baseUrl}/chat/completions`, {
      model: "floor",
      messages: [{ role: "user", content: `floor\n${tag}` }],
    });
  }
  const received = new Map((await mockRequests(world.mock)).map((r) => [r.tag, r.receivedAt]));
  return [...sent].map(([tag, at]) => received.get(tag)! - at);
}

/**
 * The floor under a burst's send → provider request: `count` requests at once through bench/floor-relay.ts (two
 * hops, none of the server's work), each timed from its send to the mock's receipt of its tag. What a server that
 * does nothing but relay could reach on this machine with the same client, mock and burst.
 */
async function relayBurstFloor(world: World, count: number): Promise<number[]> {
  const relay = await startRelay(world.mock);
  try {
    await relayBurst(world, relay.url, count); // warms the relay up, as warmUp does the server
    return await relayBurst(world, relay.url, count);
  } finally {
    await relay.stop();
  }
}

async function relayBurst(world: World, relayUrl: string, count: number): Promise<number[]> {
  const sent = new Map<string, number>();
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const tag = `relay-${process.pid}-${i}-${Math.random().toString(36).slice(2, 8)}`;
      return new Promise<void>((resolve, reject) => {
        sent.set(tag, epochNow());
        const request = http.get(`${relayUrl}?count=3&delay=5&tag=${tag}`, { agent: false }, (res) => {
          res.resume();
          res.on("end", resolve);
          res.on("error", reject);
        });
        request.on("error", reject);
      });
    }),
  );
  const received = new Map((await mockRequests(world.mock)).map((r) => [r.tag, r.receivedAt]));
  return [...sent].map(([tag, at]) => received.get(tag)! - at);
}

export const firstChunkScenario: Scenario = {
  name: "first-chunk",
  title: "Send → first chunk at the client, minus the provider's own first-token time",
  postgres: true,
  async run(context: ScenarioContext) {
    // BENCH_FIRST_CHUNK_SINGLES=0 leaves the single sends out (a profile of the burst alone).
    const singles = context.smoke ? 3 : Number(process.env.BENCH_FIRST_CHUNK_SINGLES ?? 15);
    // BENCH_FIRST_CHUNK_BURST=5 measures a burst of that many sends instead (a few conversations at once).
    const burst = context.smoke ? 5 : Number(process.env.BENCH_FIRST_CHUNK_BURST) || 25;
    const world = await startWorld(context);
    const { api, agentId } = world;
    let n = 0;
    const probes = async (count: number) =>
      inBatches(
        Array.from({ length: count }, () => 0),
        8,
        async () => ({
          tag: `probe-${process.pid}-${n++}-${Math.random().toString(36).slice(2, 8)}`,
          conversationId: await api.createConversation(agentId),
        }),
      );
    try {
      await warmUp(world);
      context.log(`first-chunk: ${singles} single sends, then ${burst} at once`);
      const single = {
        overhead: [] as number[],
        raw: [] as number[],
        provider: [] as number[],
        request: [] as number[],
      };
      for (let i = 0; i < singles; i++) {
        const one = await measure(world, await probes(1));
        single.overhead.push(...one.overhead);
        single.raw.push(...one.raw);
        single.provider.push(...one.provider);
        single.request.push(...one.request);
      }
      const many = await measure(world, await probes(burst));
      const floor = summarize(await requestFloor(world, 15));
      const burstFloor = summarize(await relayBurstFloor(world, burst));
      const s = summarize(single.overhead);
      const m = summarize(many.overhead);
      const sr = summarize(single.request);
      const mr = summarize(many.request);
      const metrics: Metric[] = [
        {
          key: "first-chunk.1.p50",
          label: "send → first chunk − provider TTFT, 1 send, p50",
          unit: "ms",
          value: s.p50,
          target: { op: "<=", value: 30 },
        },
        {
          key: "first-chunk.1.p99",
          label: "send → first chunk − provider TTFT, 1 send, p99",
          unit: "ms",
          value: s.p99,
        },
        {
          key: `first-chunk.${burst}.p50`,
          label: `send → first chunk − provider TTFT, ${burst} sends at once, p50`,
          unit: "ms",
          value: m.p50,
          target: { op: "<=", value: 100 },
        },
        {
          key: `first-chunk.${burst}.p99`,
          label: `send → first chunk − provider TTFT, ${burst} sends at once, p99`,
          unit: "ms",
          value: m.p99,
        },
        {
          key: "first-chunk.1.request.p50",
          label: "send → provider request received, 1 send, p50",
          unit: "ms",
          value: sr.p50,
          target: { op: "<=", value: 5 },
        },
        {
          key: `first-chunk.${burst}.request.p50`,
          label: `send → provider request received, ${burst} sends at once, p50`,
          unit: "ms",
          value: mr.p50,
          target: { op: "<=", value: 5 },
        },
        {
          key: "first-chunk.request-floor.p50",
          label: "client → provider request received, straight (floor, one hop), p50",
          unit: "ms",
          value: floor.p50,
        },
        {
          key: `first-chunk.${burst}.request.p99`,
          label: `send → provider request received, ${burst} sends at once, p99`,
          unit: "ms",
          value: mr.p99,
        },
        {
          key: `first-chunk.${burst}.request-floor.p50`,
          label: `client → relay → provider request, ${burst} at once (floor, no server work), p50`,
          unit: "ms",
          value: burstFloor.p50,
        },
        {
          key: `first-chunk.${burst}.request-floor.p99`,
          label: `client → relay → provider request, ${burst} at once (floor, no server work), p99`,
          unit: "ms",
          value: burstFloor.p99,
        },
      ];
      return {
        metrics,
        details: {
          single: { overhead: s, raw: summarize(single.raw), providerTtft: summarize(single.provider), request: sr },
          requestFloor: floor,
          burstRequestFloor: burstFloor,
          burst: { overhead: m, raw: summarize(many.raw), providerTtft: summarize(many.provider), request: mr },
        },
      };
    } finally {
      await world.close();
    }
  },
};
