import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { startWorld, type World } from "../lib/world.js";

const SENTENCES = [
  "I am planning a two-week trip through the north of Portugal in May and would like a rough day-by-day outline.",
  "Which of those towns would you skip if I only had ten days, and why would you skip it rather than another one?",
  "Can you suggest a vegetarian dish that is typical for each region we talked about, with one sentence on each?",
  "How early should I book the train between Porto and Braga, and is there a cheaper bus that takes about as long?",
];

interface Call {
  turn: number;
  promptTokens: number;
  cachedTokens: number;
}

/** A conversation of `turns` turns; answers each provider call's usage as the server recorded it (llm_calls). */
async function converse(world: World, turns: number, directive: string): Promise<Call[]> {
  const { api } = world;
  const conversationId = await api.createConversation(world.agentId);
  const stream = await api.openEvents(conversationId, () => {});
  const calls: Call[] = [];
  try {
    for (let turn = 1; turn <= turns; turn++) {
      const text = `${directive}${directive ? "\n" : ""}Turn ${turn}: ${SENTENCES[turn % SENTENCES.length]}`;
      const { runId } = await api.send(conversationId, text);
      const ended = await stream.runEnded(runId);
      if (ended.kind !== "run_succeeded") throw new Error(`turn ${turn} ended ${ended.kind}`);
      const detail = await api.runDetail(runId);
      for (const call of detail.llmCalls) {
        calls.push({ turn, promptTokens: call.usage.promptTokens ?? 0, cachedTokens: call.usage.cachedTokens ?? 0 });
      }
    }
  } finally {
    stream.close();
  }
  return calls;
}

function analyse(calls: Call[]) {
  const sum = (list: Call[], field: keyof Call) => list.reduce((n, c) => n + c[field], 0);
  const overall = sum(calls, "cachedTokens") / sum(calls, "promptTokens");
  const later = calls.filter((c) => c.turn >= 2);
  const laterRatio = sum(later, "cachedTokens") / sum(later, "promptTokens");
  // Tokens of the previous request (same conversation) that were not cached: 0, or 1 from rounding chars/4.
  let worstMiss = 0;
  for (let i = 1; i < calls.length; i++) {
    worstMiss = Math.max(worstMiss, calls[i - 1]!.promptTokens - calls[i]!.cachedTokens);
  }
  return { overall, laterRatio, worstMiss };
}

async function resetMockCache(world: World): Promise<void> {
  await fetch(`${world.mock.origin}/bench/cache`, { method: "DELETE" });
}

export const cacheScenario: Scenario = {
  name: "cache",
  title: "Prompt-cache ratio over a 20-turn conversation on default-assistant (mock's exact-prefix accounting)",
  postgres: false,
  async run(context: ScenarioContext) {
    const turns = context.smoke ? 5 : 20;
    const world = await startWorld(context);
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = { turns };
    try {
      const variants = [
        { key: "plain", label: "", directive: "", target: 95 },
        { key: "tools", label: ", a tool call every turn", directive: "/mock tool_calls name=skills_list", target: 90 },
      ];
      for (const variant of variants) {
        context.log(`cache: ${turns} turns${variant.label}`);
        await resetMockCache(world);
        const cold = analyse(await converse(world, turns, variant.directive));
        // Another conversation with the same agent already sent the system prompt and tools: as in real use.
        await resetMockCache(world);
        await converse(world, 1, variant.directive);
        const calls = await converse(world, turns, variant.directive);
        const warm = analyse(calls);
        metrics.push(
          {
            key: `cache.${variant.key}.overall`,
            label: `cache hit, ${turns} turns${variant.label} (system prompt warm)`,
            unit: "%",
            value: warm.overall * 100,
            target: { op: ">=", value: variant.target },
          },
          {
            key: `cache.${variant.key}.cold`,
            label: `cache hit, ${turns} turns${variant.label} (cold provider cache)`,
            unit: "%",
            value: cold.overall * 100,
          },
          {
            key: `cache.${variant.key}.later`,
            label: `cache hit, turns 2–${turns}${variant.label}`,
            unit: "%",
            value: warm.laterRatio * 100,
          },
          {
            key: `cache.${variant.key}.miss`,
            label: `tokens of the previous request not cached, worst call${variant.label}`,
            unit: "tokens",
            value: Math.max(warm.worstMiss, cold.worstMiss),
            target: { op: "<=", value: 1 },
            combine: "max",
          },
        );
        details[variant.key] = { warm, cold, calls };
      }
    } finally {
      await world.close();
    }
    return { metrics, details };
  },
};
