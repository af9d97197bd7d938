import fs from "node:fs";
import { agentsWithHook } from "../../apps/server/src/testing/agents.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { startWorld, type World } from "../lib/world.js";

const SENTENCES = [
  "I am planning a two-week trip through the north of Portugal in May and would like a rough day-by-day outline.",
  "Which of those towns would you skip if I only had ten days, and why would you skip it rather than another one?",
  "Can you suggest a vegetarian dish that is typical for each region we talked about, with one sentence on each?",
  "How early should I book the train between Porto and Braga, and is there a cheaper bus that takes about as long?",
];

/**
 * A before_inference hook whose volatile context differs on every call (a nanosecond clock reading): what a hook
 * adding live context costs the prompt cache. Its text is the request's last message, after the stable prefix.
 */
const HOOK_SCRIPT = `#!/bin/sh
cat >/dev/null
printf '{"context": "Live context for this call, read at %s: the user is at home and it is raining."}\\n' "$(date +%s%N)"
`;
/** The hook's message as the mock counts it (JSON of the message; the clock reading is 19 digits). */
const HOOK_MESSAGE_TOKENS = Math.ceil(
  JSON.stringify({
    role: "system",
    content: `Live context for this call, read at ${"1".repeat(19)}: the user is at home and it is raining.`,
  }).length / 4,
);

interface Call {
  turn: number;
  promptTokens: number;
  cachedTokens: number;
}

/**
 * A conversation of `turns` turns; answers each provider call's usage as the server recorded it (llm_calls).
 * `hooked`: every call must have had its before_inference hook applied (else the figure would not be the hook's).
 */
async function converse(world: World, turns: number, directive: string, hooked = false): Promise<Call[]> {
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
      if (hooked) {
        const applied = detail.hooks.filter((h) => h.hook === "before_inference" && h.state === "succeeded");
        if (applied.length !== detail.llmCalls.length) {
          throw new Error(`turn ${turn}: the hook was not applied to every call: ${JSON.stringify(detail.hooks)}`);
        }
      }
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
  title:
    "Prompt-cache ratio over a 20-turn conversation on default-assistant (mock's exact-prefix accounting), plain, " +
    "with a tool call every turn, and with a before_inference hook adding context every call",
  postgres: false,
  async run(context: ScenarioContext) {
    const turns = context.smoke ? 5 : 20;
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = { turns };
    const world = await startWorld(context);
    try {
      const variants = [
        { key: "plain", label: "", directive: "", target: 95 },
        { key: "tools", label: ", a tool call every turn", directive: "/mock tool_calls name=skills_list", target: 90 },
      ];
      for (const variant of variants) {
        await measure(context, world, turns, { ...variant, miss: 1 }, metrics, details);
      }
    } finally {
      await world.close();
    }
    // The same agent with a before_inference hook adding live context to every call, run by the embedded Nexus.
    const agentsDir = agentsWithHook("before_inference", "live-context.sh", HOOK_SCRIPT);
    const hooked = await startWorld(context, { serverEnv: { CYBROS_AGENTS_DIR: agentsDir, CYBROS_LOCAL_NEXUS: "on" } });
    try {
      await hooked.api.waitForLocalNexus();
      const variant = { key: "hook", label: ", a before_inference hook adding context", directive: "", target: 95 };
      // The previous request's hook text is the one part of it a call cannot reuse.
      await measure(
        context,
        hooked,
        turns,
        { ...variant, miss: HOOK_MESSAGE_TOKENS + 1, hooked: true },
        metrics,
        details,
      );
    } finally {
      await hooked.close();
      fs.rmSync(agentsDir, { recursive: true, force: true });
    }
    return { metrics, details };
  },
};

interface Variant {
  key: string;
  label: string;
  directive: string;
  /** Overall hit ratio to reach, in %. */
  target: number;
  /** Tokens of the previous request that may go uncached. */
  miss: number;
  hooked?: boolean;
}

/** One variant, cold (an empty provider cache) and warm (another conversation sent the system prompt first). */
async function measure(
  context: ScenarioContext,
  world: World,
  turns: number,
  variant: Variant,
  metrics: Metric[],
  details: Record<string, unknown>,
): Promise<void> {
  context.log(`cache: ${turns} turns${variant.label}`);
  await resetMockCache(world);
  const cold = analyse(await converse(world, turns, variant.directive, variant.hooked));
  // Another conversation with the same agent already sent the system prompt and tools: as in real use.
  await resetMockCache(world);
  await converse(world, 1, variant.directive, variant.hooked);
  const calls = await converse(world, turns, variant.directive, variant.hooked);
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
      target: { op: "<=", value: variant.miss },
      combine: "max",
    },
  );
  details[variant.key] = { warm, cold, calls };
}
