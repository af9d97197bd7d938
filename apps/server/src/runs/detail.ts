import type { HookExecution } from "@cybros/protocol";
import { and, asc, eq } from "drizzle-orm";
import { directiveOutputSoFar } from "../conduits/outcome.js";
import { findOwned } from "../conversations/index.js";
import type { RunRow } from "../conversations/present.js";
import { presentRun, presentToolPart } from "../conversations/present.js";
import type { Current } from "../current.js";
import { llmCallQueries } from "../db/queries/llm-calls.js";
import { nodeQueries } from "../db/queries/nodes.js";
import { runQueries } from "../db/queries/runs.js";
import { conversationRuns, directives, runSteps } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import type { Services } from "../services.js";
import { type HookStepInput, hookVerdict } from "./steps/hooks.js";

/**
 * What the inspector shows for a run: each provider call (model, prompt sections, usage, timings), tool calls,
 * and each hook it ran (with why one was not applied).
 */
export async function runDetail(services: Services, run: RunRow) {
  const calls = await llmCallQueries(services.db).ofRun(run.id);
  const tasks = await nodeQueries(services.db).ofRun(run.id);
  const hookSteps = await services.db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.runId, run.id), eq(runSteps.kind, "await_hook")))
    .orderBy(asc(runSteps.ordinal));
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
    hooks: hookSteps.map(presentHookExecution),
  };
}

/** A hook's step as a reply's details show it: how it ran, what it said on stderr, what it answered. */
function presentHookExecution(step: typeof runSteps.$inferSelect): HookExecution {
  const input = step.input as unknown as HookStepInput;
  const { applied: _applied, ...verdict } = hookVerdict(step);
  return { id: step.id, hook: input.hook, toolCallNodeId: input.toolNodeId ?? null, ...verdict };
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

/** What a tool call's directive printed so far; visible through the conversation of the run that waits on it. */
export async function directiveOutputOf(services: Services, current: Current, directiveId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(directiveId)) throw new NotFoundError("Directive");
  const [directive] = await services.db.select().from(directives).where(eq(directives.id, directiveId));
  const [wait] = directive?.runStepId
    ? await services.db.select({ runId: runSteps.runId }).from(runSteps).where(eq(runSteps.id, directive.runStepId))
    : [];
  if (!directive || !wait || directive.accountId !== current.account.id) throw new NotFoundError("Directive");
  const [run] = await services.db.select().from(conversationRuns).where(eq(conversationRuns.id, wait.runId));
  await findOwned(services, current, run!.conversationId);
  return directiveOutputSoFar(services, directive);
}
