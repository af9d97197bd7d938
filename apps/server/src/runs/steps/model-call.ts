import { type contextNodes, toPromptMessages } from "../../conversations/context.js";
import { type NodeRow, presentMessage, type ToolCallRecord } from "../../conversations/present.js";
import { promptImages } from "../../conversations/tool-images.js";
import { eventWrites } from "../../db/queries/events.js";
import { llmCallWrites } from "../../db/queries/llm-calls.js";
import { nodeQueries, nodeWrites } from "../../db/queries/nodes.js";
import { stepWrites } from "../../db/queries/steps.js";
import { uuidv7 } from "../../ids.js";
import { streamChat } from "../../llm/index.js";
import { assemblePrompt } from "../../prompts/assemble.js";
import type { EventDraft } from "../../realtime/index.js";
import type { NodeStream } from "../../realtime/stream-writer.js";
import { type StepRow, succeededEnding } from "../store.js";
import type { PromptAdjustments } from "./hooks.js";
import { createNode, noteStep, type RunScope, stepRow, toRunError } from "./scope.js";

/** What a model call left for the run: the tool calls it asked for (as pending tool_call steps), or the run's end. */
export interface ModelCallOutcome {
  toolCalls: ToolCallRecord[];
  /** The reply had no tool calls and its batch ended the run. */
  ended: boolean;
}

/**
 * A model call step: one agent message streamed from the provider. The provider request goes out as soon as the
 * prompt is ready, while the node's row, the step's row and message_created are written: deltas that arrive
 * meanwhile go to clients at once and are persisted after (decisions/0042); a node that is never written is
 * withdrawn from them. `previous`: the interrupted attempt this one repeats; `adjusted`: the prompt as the hooks
 * before this call left it.
 */
export async function modelCall(
  scope: RunScope,
  /** The conversation as this step's prompt sees it, read before the step's node is created. */
  contextRead: ReturnType<typeof contextNodes>,
  previous?: StepRow,
  adjusted?: PromptAdjustments,
): Promise<ModelCallOutcome> {
  const { services, run, signal, definition, choice } = scope;
  const nodeId = uuidv7();
  const step = stepRow(scope, { kind: "model_call", state: "running", nodeId }, previous);
  const stream: NodeStream = services.streams.openStream(
    { conversationId: run.conversationId, turnId: run.turnId, runId: run.id, nodeId },
    { unwritten: true },
  );
  const call = new AbortController();
  const forwardAbort = () => call.abort(signal.reason);
  if (signal.aborted) forwardAbort();
  else signal.addEventListener("abort", forwardAbort, { once: true });
  const announced = (async () => {
    const node = await createNode(
      scope,
      { id: nodeId, kind: "agent_message", state: "running", parentId: null, data: {} },
      (node) => [
        {
          conversationId: run.conversationId,
          turnId: run.turnId,
          runId: run.id,
          nodeId,
          kind: "message_created",
          payload: { message: presentMessage(node) },
        },
      ],
      [stepWrites(services.db).save(step)],
    );
    noteStep(scope, step);
    stream.release();
    return node;
  })();
  // Without a node there is nothing to stream into: the provider request is abandoned.
  announced.catch((error) => call.abort(error));

  const started = performance.now();
  let result: Awaited<ReturnType<typeof streamChat>> | undefined;
  let failure: unknown;
  let prompt: ReturnType<typeof assemblePrompt> | undefined;
  try {
    const context = await contextRead;
    const images = await promptImages(services.db, run.conversationId, context, choice.acceptsImages, nodeId);
    prompt = assemblePrompt({
      definition,
      variables: adjusted?.variables ?? scope.variables,
      tools: adjusted?.tools ?? scope.tools,
      history: toPromptMessages(context, nodeId, images),
      volatile: adjusted?.volatile,
    });
    scope.onStarted?.();
    result = await streamChat({
      provider: choice.provider,
      model: choice.model,
      messages: prompt.messages,
      tools: prompt.tools,
      signal: call.signal,
      onTextDelta: (delta) => {
        scope.activity.lastOutputAt = Date.now();
        stream.push(delta);
      },
    });
  } catch (error) {
    failure = error;
  } finally {
    signal.removeEventListener("abort", forwardAbort);
  }
  let node: NodeRow;
  try {
    node = await announced;
  } catch (error) {
    services.streams.abandon(stream);
    throw error;
  }
  if (!prompt) {
    // The context read failed: no request went out.
    await services.streams.close(stream);
    throw failure;
  }
  if (failure) {
    // Keep what was streamed before the failure on the node (endRun marks it errored or stopped, a restart as
    // interrupted), and do it while the stream is still open: a cancel ending the run meanwhile either finds the
    // stream and freezes its text, or finds this text on the node. Never overwrite a node a cancel finalized.
    await nodeQueries(services.db).keepStreamedText(node.id, stream.text);
  }
  const endsRun = !failure && result!.toolCalls.length === 0;
  await services.streams.close(stream);
  const recordCall = llmCallWrites(services.db).insert({
    id: uuidv7(),
    conversationId: run.conversationId,
    runId: run.id,
    nodeId: node.id,
    agentProgramId: scope.agent.id,
    agentCommit: definition.gitCommit,
    providerId: choice.provider.id,
    providerName: choice.provider.name,
    model: choice.model,
    sections: prompt.sections,
    messageCount: prompt.messages.length,
    promptTokens: result?.usage.promptTokens ?? null,
    completionTokens: result?.usage.completionTokens ?? null,
    cachedTokens: result?.usage.cachedTokens ?? null,
    ttftMs: result?.timing.ttftMs ?? null,
    durationMs: Math.round(performance.now() - started),
    finishReason: result?.finishReason ?? null,
    error: failure && !signal.aborted ? toRunError(failure) : null,
    createdAt: new Date(),
  });
  if (failure) {
    await services.database.write({ call: recordCall });
    throw failure;
  }
  const toolCalls: ToolCallRecord[] = result!.toolCalls.map((call) => ({
    callId: call.callId,
    name: call.name,
    argsText: call.argsText,
  }));
  const text = stream.text;
  const finished: NodeRow = {
    ...node,
    state: "finished",
    content: text,
    data: { toolCalls, finishReason: result!.finishReason },
    finishedAt: new Date(),
  };
  const completed: EventDraft = {
    conversationId: run.conversationId,
    turnId: run.turnId,
    runId: run.id,
    nodeId: node.id,
    kind: "stream_complete",
    text,
    payload: { state: "completed", message: presentMessage(finished) },
  };
  // The tool calls become the run's next steps, in the order the model sent them.
  const succeeded: StepRow = {
    ...step,
    state: "succeeded",
    output: { toolCalls, finishReason: result!.finishReason },
    finishedAt: finished.finishedAt,
  };
  const toolSteps: StepRow[] = [];
  for (const [index, toolCall] of toolCalls.entries()) {
    toolSteps.push(
      stepRow(
        { ...scope, steps: [...scope.steps, succeeded, ...toolSteps] },
        { kind: "tool_call", state: "pending", input: { call: toolCall, messageNodeId: node.id, index } },
      ),
    );
  }
  const steps = stepWrites(services.db);
  // Finalize, compact and move on in one batch: the chunks go, stream_complete carries the full text, the step
  // succeeds and its tool calls are stored as steps. A reply without tool calls ends the run in the same batch.
  const finalize = {
    node: nodeWrites(services.db).finish({
      nodeId: node.id,
      content: finished.content,
      data: finished.data,
      at: finished.finishedAt!,
    }),
    chunks: eventWrites(services.db).dropChunks(node.id),
    step: steps.succeed({ stepId: step.id, output: succeeded.output!, at: finished.finishedAt! }),
    toolSteps: toolSteps.map((toolStep) => steps.save(toolStep)),
  };
  // Aborted already (a cancel on its way to end the run): the run is left for it to end.
  const ending = endsRun && !signal.aborted ? succeededEnding(services, run) : undefined;
  const completion = services.realtime.recording([completed, ...(ending?.drafts ?? [])]);
  const written = await services.database.write({
    call: recordCall,
    ...finalize,
    ...ending?.writes,
    events: completion.write,
  });
  if (written.ok) {
    noteStep(scope, succeeded);
    for (const toolStep of toolSteps) noteStep(scope, toolStep);
    const events = completion.envelopes(written.rows.events);
    // A run that ended here is over whatever the signal says; one still running publishes nothing once aborted.
    if (signal.aborted && !ending) return { toolCalls: [], ended: false };
    services.realtime.publish(events);
    return { toolCalls, ended: Boolean(ending) };
  }
  // Rolled back whole: the call is recorded alone, and the node finalized unless someone else did.
  await services.database.write({ call: recordCall });
  const alone = services.realtime.recording([completed]);
  const finalized = await services.database.write({ ...finalize, events: alone.write });
  if (finalized.ok) {
    noteStep(scope, succeeded);
    for (const toolStep of toolSteps) noteStep(scope, toolStep);
  }
  if (signal.aborted) return { toolCalls: [], ended: false };
  if (finalized.ok) services.realtime.publish(alone.envelopes(finalized.rows.events));
  return { toolCalls, ended: false };
}
