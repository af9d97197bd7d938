import { newNode, presentToolPart, type TaskData, type ToolCallRecord } from "../../conversations/present.js";
import { batchStatement } from "../../db/index.js";
import { nodeWrites } from "../../db/queries/nodes.js";
import { uuidv7 } from "../../ids.js";
import type { EventDraft } from "../../realtime/index.js";
import {
  type DirectiveOutcome,
  finishTool,
  isRunDirective,
  runTool,
  type ToolContext,
  type ToolResult,
} from "../../tools/define.js";
import { type StepRow, stepWrites } from "../store.js";
import { awaited } from "./await.js";
import { approvalOf, needsApproval, requestApproval } from "./await-approval.js";
import { runAsDirective } from "./await-directive.js";
import { afterToolCall, declaredHook, type HookStepInput, startAfterToolCall, toolHookOf } from "./hooks.js";
import { createNode, noteStep, type RunScope } from "./scope.js";

export const MAX_TOOL_CALLS_PER_RESPONSE = 20;

/** What a tool_call step keeps as its input: the call as the model sent it and the message it came from. */
export interface ToolCallInput {
  call: ToolCallRecord;
  messageNodeId: string;
  index: number;
}

type Outcome = ToolResult & { durationMs: number };

/**
 * A tool_call step: the call's task node (made when the step first runs), then the tool, in this process. A tool
 * the agent program lists under `tools.approval` first waits for a person's answer (an await_approval step): the
 * run is handed back and this step runs again once the wait ends. Answers whether the run now waits.
 */
export async function toolCall(scope: RunScope, step: StepRow): Promise<"done" | "waiting"> {
  const { services, run, signal } = scope;
  const input = step.input as unknown as ToolCallInput;
  const { call } = input;
  let args: unknown;
  let parseError: string | undefined;
  try {
    args = call.argsText.trim() ? JSON.parse(call.argsText) : {};
  } catch {
    parseError = "Invalid arguments: not valid JSON";
  }
  const running: StepRow = { ...step, state: "running", startedAt: step.startedAt ?? new Date() };
  const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
  if (!step.nodeId) {
    const nodeId = uuidv7();
    running.nodeId = nodeId;
    await createNode(
      scope,
      {
        id: nodeId,
        kind: "task",
        state: "running",
        parentId: input.messageNodeId,
        data: {
          callId: call.callId,
          name: call.name,
          argsText: call.argsText,
          args,
        } satisfies TaskData as unknown as Record<string, unknown>,
      },
      (task) => [
        {
          ...base,
          nodeId,
          kind: "tool_call",
          payload: { messageId: input.messageNodeId, part: presentToolPart(task) },
        },
      ],
      [stepWrites(services.db).save(running)],
    );
  } else {
    await services.database.batch([stepWrites(services.db).save(running)]);
  }
  noteStep(scope, running);
  scope.activity.lastOutputAt = Date.now();

  const tool = scope.tools.find((t) => t.name === call.name);
  let hooked = toolHookOf(scope, step);
  let outcome: Outcome;
  if (input.index >= MAX_TOOL_CALLS_PER_RESPONSE) {
    outcome = {
      output: `Too many tool calls in one response (the limit is ${MAX_TOOL_CALLS_PER_RESPONSE}); this one was not run.`,
      isError: true,
      durationMs: 0,
    };
  } else if (parseError) {
    outcome = { output: parseError, isError: true, durationMs: 0 };
  } else if (!tool) {
    const names = scope.tools.map((t) => t.name).join(", ") || "none";
    outcome = {
      output: `There is no tool named "${call.name}". Available tools: ${names}.`,
      isError: true,
      durationMs: 0,
    };
  } else if (hooked) {
    // The after_tool_call hook ran on this result: the result as it was before is kept with the hook's step.
    outcome = (hooked.input as unknown as HookStepInput).result!;
  } else {
    // Work done elsewhere (a child run, a directive): what the wait ended with is the result.
    const elsewhere = awaited(scope, step);
    const approval = approvalOf(scope, step);
    if (elsewhere?.kind === "await_directive") {
      outcome = await finishTool(tool, elsewhere.output as unknown as DirectiveOutcome, args, toolContext(scope));
    } else if (elsewhere && elsewhere.kind !== "await_approval") {
      outcome = resultOf(elsewhere);
    } else if (needsApproval(scope, tool.name) && !approval) {
      await requestApproval(scope, running, { callId: call.callId, name: call.name, argsText: call.argsText, args });
      return "waiting";
    } else if (approval && !approval.approved) {
      outcome = {
        summary: "Not approved",
        output: `The person did not approve this call${approval.reason ? `: ${approval.reason}` : "."} It was not run.`,
        isError: true,
        durationMs: 0,
      };
    } else {
      const answer = await runTool(tool, args, toolContext(scope));
      if (isRunDirective(answer)) {
        const task: TaskData = { callId: call.callId, name: call.name, argsText: call.argsText, args };
        const started = await runAsDirective(scope, running, task, answer.directive);
        if (started === "waiting") return "waiting";
        outcome = started;
      } else {
        outcome = answer;
      }
    }
  }
  if (signal.aborted) return "done";
  const ranTool = tool && !parseError && input.index < MAX_TOOL_CALLS_PER_RESPONSE;
  if (ranTool && !hooked && declaredHook(scope, "after_tool_call")) {
    const started = await startAfterToolCall(scope, running, { ...call, args }, outcome);
    if (started === "waiting") return "waiting";
    hooked = started;
  }
  let warnings: EventDraft[] = [];
  if (hooked) ({ outcome, warnings } = afterToolCall(scope, hooked));
  const ranAs = awaited(scope, step, "await_directive")?.input.directive as TaskData["directive"];
  const data: TaskData = {
    ...(ranAs ? { directive: ranAs } : {}),
    callId: call.callId,
    name: call.name,
    argsText: call.argsText,
    args,
    output: outcome.output,
    ...(outcome.summary ? { summary: outcome.summary } : {}),
    isError: Boolean(outcome.isError),
    durationMs: outcome.durationMs,
    ...(outcome.metadata ? { metadata: outcome.metadata } : {}),
  };
  const finishedAt = new Date();
  const task = newNode({
    id: running.nodeId!,
    conversationId: run.conversationId,
    turnId: run.turnId,
    turnSeq: run.turnSeq,
    position: 0, // not presented
    kind: "task",
    state: "finished",
    runId: run.id,
    parentId: input.messageNodeId,
    data: data as unknown as Record<string, unknown>,
    finishedAt,
  });
  const result = services.realtime.recording([
    ...warnings,
    {
      ...base,
      nodeId: task.id,
      kind: "tool_result",
      payload: { messageId: input.messageNodeId, part: presentToolPart(task) },
    },
  ]);
  const written = await services.database.batch([
    nodeWrites(services.db).finish({ nodeId: task.id, content: "", data: { ...data }, at: finishedAt }),
    stepWrites(services.db).succeed({
      stepId: step.id,
      output: JSON.stringify({ isError: data.isError, summary: data.summary }),
      finishedAt: finishedAt.toISOString(),
    }),
    batchStatement(result.query),
  ]);
  // Not written: the run ended meanwhile (a cancel closed the task), and it publishes its own end.
  if (!written.ok) return "done";
  noteStep(scope, { ...running, state: "succeeded", finishedAt });
  services.realtime.publish(result.envelopes(written.results.at(-1)!.rows));
  return "done";
}

/** What a tool may touch while this run's step runs it. */
function toolContext(scope: RunScope): ToolContext {
  const { services, run } = scope;
  return {
    services,
    log: services.log,
    account: scope.account,
    agent: { id: scope.agent.id, name: scope.definition.manifest.name, localPath: scope.agent.localPath },
    conversationId: run.conversationId,
    signal: scope.signal,
    ...(scope.embedder ? { embedder: scope.embedder } : {}),
  };
}

/** A wait's output as a tool result: `{ output, summary?, isError? }`, or any JSON, shown as is. */
function resultOf(wait: StepRow): Outcome {
  const output = wait.output ?? {};
  const durationMs = wait.finishedAt && wait.createdAt ? wait.finishedAt.getTime() - wait.createdAt.getTime() : 0;
  return {
    summary: typeof output.summary === "string" ? output.summary : `${wait.kind.replace("await_", "")} finished`,
    output: typeof output.output === "string" ? output.output : JSON.stringify(output),
    isError: output.isError === true,
    durationMs,
  };
}
