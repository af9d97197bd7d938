import type { RunRow } from "../conversations/present.js";
import { presentRun, presentToolPart } from "../conversations/present.js";
import type { Current } from "../current.js";
import { llmCallQueries } from "../db/queries/llm-calls.js";
import { nodeQueries } from "../db/queries/nodes.js";
import { runQueries } from "../db/queries/runs.js";
import type { Services } from "../services.js";

/** What the inspector shows for a run: each provider call (model, prompt sections, usage, timings) and tool calls. */
export async function runDetail(services: Services, run: RunRow) {
  const calls = await llmCallQueries(services.db).ofRun(run.id);
  const tasks = await nodeQueries(services.db).ofRun(run.id);
  return {
    llmCalls: calls.map((call) => ({
      id: call.id,
      nodeId: call.nodeId,
      provider: call.providerName,
      model: call.model,
      agentProgramId: call.agentProgramId,
      agentCommit: call.agentCommit,
      sections: call.sections,
      messageCount: call.messageCount,
      usage: {
        promptTokens: call.promptTokens,
        completionTokens: call.completionTokens,
        cachedTokens: call.cachedTokens,
      },
      ttftMs: call.ttftMs,
      durationMs: call.durationMs,
      finishReason: call.finishReason,
      error: call.error,
      createdAt: call.createdAt.toISOString(),
    })),
    toolCalls: tasks.filter((n) => n.kind === "task").map(presentToolPart),
  };
}

/** The person's most recently queued run in any conversation (archived too), with its detail; null before any. */
export async function latestRun(services: Services, current: Current) {
  const latest = await runQueries(services.db).latestOf(current.user.id);
  if (!latest) return null;
  return {
    run: presentRun(latest.run),
    conversation: { id: latest.run.conversationId, title: latest.title },
    ...(await runDetail(services, latest.run)),
  };
}
