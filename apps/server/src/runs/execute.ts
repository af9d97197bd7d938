import type { RunError } from "@cybros/protocol";
import { and, eq, sql } from "drizzle-orm";
import { type AgentDefinition, loadAgentProgramAsOf } from "../agents/loader.js";
import { contextNodes, toPromptMessages } from "../conversations/context.js";
import {
  type NodeRow,
  newNode,
  presentMessage,
  presentRun,
  presentToolPart,
  type RunRow,
  type TaskData,
  type ToolCallRecord,
} from "../conversations/present.js";
import { titleAfterReply } from "../conversations/title.js";
import type { Account } from "../current.js";
import { batchStatement, builtOnce, columnPlaceholders, statementTemplate } from "../db/index.js";
import {
  accounts,
  agentPrograms,
  conversationEvents,
  conversationRuns,
  conversations,
  llmCalls,
  nodes,
  users,
} from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import { LlmError, streamChat } from "../llm/index.js";
import { embedderFor } from "../memory/account-embedder.js";
import type { Embedder } from "../memory/embedder.js";
import { assemblePrompt } from "../prompts/assemble.js";
import { enabledProviders, NoProviderForModelError, resolveModel } from "../providers/resolve.js";
import type { EventDraft } from "../realtime/index.js";
import type { NodeStream } from "../realtime/stream-writer.js";
import type { Services } from "../services.js";
import { runTool, type Tool } from "../tools/define.js";
import { toolsFor } from "../tools/registry.js";
import { finishRun, finishSucceededRun, HEARTBEAT_INTERVAL_MS, succeededEnding } from "./index.js";

export const MAX_STEPS_PER_TURN = 10;
export const MAX_TOOL_CALLS_PER_RESPONSE = 20;

/** The abort reason used when the server shuts down: the run ends failed and retryable, not canceled. */
export const SHUTDOWN = "shutdown";
const INTERRUPTED: RunError = {
  code: "interrupted",
  message: "The server stopped while this reply was being written. Retry to run it again.",
};

class RunFailure extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

interface RunScope {
  services: Services;
  run: RunRow;
  signal: AbortSignal;
  account: Account;
  agent: typeof agentPrograms.$inferSelect;
  position: number;
  activity: RunActivity;
  /** run_started and typing_start are still to be announced: they go with the run's first node. */
  announceStart: boolean;
  embedder?: Embedder;
  onProviderCall?: () => void;
}

/** What a run is about: its conversation, agent program, account and user, and where its turn's nodes end. */
const runSubject = builtOnce((db) =>
  db
    .select({
      conversation: conversations,
      agent: agentPrograms,
      account: accounts,
      user: users,
      maxPosition: sql<number>`(SELECT coalesce(max(${nodes.position}), 0)::int FROM ${nodes} WHERE ${nodes.turnId} = ${sql.placeholder("turnId")})`,
    })
    .from(conversations)
    .innerJoin(agentPrograms, eq(agentPrograms.id, conversations.agentProgramId))
    .innerJoin(accounts, eq(accounts.id, conversations.accountId))
    .innerJoin(users, eq(users.id, conversations.userId))
    .where(eq(conversations.id, sql.placeholder("conversationId")))
    .prepare("run_subject"),
);

/** The statements of a step, built once (decisions/0016). */
const stepStatements = builtOnce((db) => ({
  insertNode: statementTemplate<NodeRow>(db.insert(nodes).values(columnPlaceholders(nodes))),
  makeActive: statementTemplate<{ runId: string; nodeId: string }>(
    db
      .update(conversationRuns)
      .set({ activeNodeId: sql`${sql.placeholder("nodeId")}::uuid` })
      .where(and(eq(conversationRuns.id, sql.placeholder("runId")), eq(conversationRuns.state, "running")))
      .returning({ id: conversationRuns.id }),
    "some",
  ),
  finishNode: statementTemplate<{ nodeId: string; content: string; data: string; finishedAt: string }>(
    db
      .update(nodes)
      .set({
        state: "finished",
        content: sql`${sql.placeholder("content")}::text`,
        data: sql`${sql.placeholder("data")}::jsonb`,
        finishedAt: sql`${sql.placeholder("finishedAt")}::timestamptz`,
      })
      .where(and(eq(nodes.id, sql.placeholder("nodeId")), eq(nodes.state, "running")))
      .returning({ id: nodes.id }),
    "some",
  ),
  dropChunks: statementTemplate<{ nodeId: string }>(
    db
      .delete(conversationEvents)
      .where(
        and(eq(conversationEvents.nodeId, sql.placeholder("nodeId")), eq(conversationEvents.kind, "stream_chunk")),
      ),
  ),
  insertCall: statementTemplate<typeof llmCalls.$inferSelect>(db.insert(llmCalls).values(columnPlaceholders(llmCalls))),
}));

/**
 * Executes one claimed run: load the agent program, resolve the model, then the tool loop (an agent message,
 * its tool calls as task nodes, the next agent message…) until a reply without tool calls. Every exit ends the
 * run exactly once through finishRun; a canceled run publishes nothing more.
 */
export async function executeRun(
  services: Services,
  run: RunRow,
  signal: AbortSignal,
  /** Called as each provider request goes out (the scheduler's start phase ends at the first). */
  onProviderCall?: () => void,
): Promise<void> {
  const activity: RunActivity = { lastOutputAt: Date.now() };
  const heartbeat = startHeartbeat(services, run, activity);
  try {
    // Independent reads sent together: on PGlite they reach its thread back to back (decisions/0009). The first
    // step's context is read now too: it is ready when the agent program is, instead of one more round trip after.
    const firstContext = contextNodes(services.db, run.conversationId, run.turnSeq);
    firstContext.catch(() => {}); // awaited by the first step; a run that fails before it reports its own error
    const [[row], providers] = await Promise.all([
      runSubject(services.db).execute({ conversationId: run.conversationId, turnId: run.turnId }),
      enabledProviders(services.db, { conversationId: run.conversationId }),
    ]);
    if (!row) return; // deleted meanwhile
    const scope: RunScope = {
      services,
      run,
      signal,
      account: row.account,
      agent: row.agent,
      position: row.maxPosition,
      activity,
      announceStart: true,
      onProviderCall,
    };
    const definition = await loadShared(row.agent.localPath, run.queuedAt, signal).catch((error) => {
      if (signal.aborted) throw error;
      throw new RunFailure({
        code: "agent_program_error",
        message: `The agent program could not be loaded: ${(error as Error).message}`,
      });
    });
    const tools = toolsFor(definition.manifest.tools.allow);
    const [choice, embedder] = await Promise.all([
      resolveModel(services, row.account, definition.manifest.model.prefer, providers).catch((error) => {
        if (error instanceof NoProviderForModelError) {
          throw new RunFailure({
            code: "no_provider_for_model",
            message: error.message,
            details: { models: error.models },
          });
        }
        throw error;
      }),
      tools.some((tool) => tool.name.startsWith("memory_"))
        ? embedderFor(services, row.account, providers).catch((error) => {
            services.log.warn({ err: error }, "memory embeddings unavailable; memory uses full-text search");
            return undefined;
          })
        : undefined,
    ]);
    scope.embedder = embedder;
    const variables = {
      user: { name: row.user.displayName ?? "" },
      conversation: { id: row.conversation.id, title: row.conversation.title },
      args: row.agent.args,
    };
    for (let step = 0; step < MAX_STEPS_PER_TURN; step++) {
      const context = step === 0 ? firstContext : contextNodes(services.db, run.conversationId, run.turnSeq);
      const outcome = await runStep(scope, definition, choice, tools, variables, context);
      if (outcome.ended) return;
      if (signal.aborted) return;
      if (outcome.toolCalls.length === 0) {
        await finishSucceededRun(services, run);
        return;
      }
      await runTools(scope, definition, tools, outcome.nodeId, outcome.toolCalls);
      if (signal.aborted) return;
    }
    await finishRun(services, run, {
      state: "failed",
      error: {
        code: "tool_loop_limit",
        message: `The agent used tools for ${MAX_STEPS_PER_TURN} steps without answering.`,
      },
    });
  } catch (error) {
    if (signal.aborted || error instanceof RunEnded) {
      // Ended here, or already ended elsewhere (then this finds nothing left to end).
      await finishRun(
        services,
        run,
        signal.reason === SHUTDOWN ? { state: "failed", error: INTERRUPTED } : { state: "canceled" },
      );
      return;
    }
    const runError = toRunError(error);
    if (runError.code === "internal_error") services.log.error({ err: error, runId: run.id }, "run crashed");
    else services.log.warn({ runId: run.id, code: runError.code, status: runError.status }, "run failed");
    await finishRun(services, run, { state: "failed", error: runError });
  } finally {
    clearInterval(heartbeat);
    void titleAfterReply(services, run);
  }
}

/**
 * Loads in flight, by folder: runs that start together share one read of their agent program (200 sends at once
 * are one load, not 200 reads racing the loader's 5 s limit). Edits made before a run's message was sent must
 * show in its load: a shared load that shows the folder only as of earlier is not used, and the loader answers
 * without a check only when its last check started after the message was sent.
 */
const loading = new Map<string, Promise<{ definition: AgentDefinition; asOf: number }>>();

async function loadShared(localPath: string, sentAt: Date, signal: AbortSignal): Promise<AgentDefinition> {
  const changesBefore = sentAt.getTime();
  let load = loading.get(localPath);
  if (!load) {
    load = loadAgentProgramAsOf(localPath, { changesBefore }).finally(() => loading.delete(localPath));
    loading.set(localPath, load);
  }
  const shared = await abortable(load, signal);
  if (shared.asOf >= changesBefore) return shared.definition;
  return (await abortable(loadAgentProgramAsOf(localPath, { changesBefore }), signal)).definition;
}

/** Waits for `work`, or rejects as soon as the signal aborts (the work itself may go on for others). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function toRunError(error: unknown): RunError {
  if (error instanceof RunFailure) return error.error;
  if (error instanceof LlmError) {
    return { code: error.code, message: error.message, ...(error.status ? { status: error.status } : {}) } as RunError;
  }
  return { code: "internal_error", message: "Something went wrong while running the agent." };
}

/** When the run last produced anything (a text delta, a tool call): the heartbeat warns when it goes quiet. */
export interface RunActivity {
  lastOutputAt: number;
}

function startHeartbeat(services: Services, run: RunRow, activity: RunActivity): NodeJS.Timeout {
  let warnedAt = 0;
  const threshold = services.config.runSilenceWarningMs;
  const timer = setInterval(() => {
    const now = Date.now();
    const silentMs = now - activity.lastOutputAt;
    if (silentMs >= threshold && now - warnedAt >= threshold) {
      warnedAt = now;
      services.log.warn(
        { runId: run.id, conversationId: run.conversationId, silentMs },
        "running run has emitted nothing",
      );
    }
    services.db
      .update(conversationRuns)
      .set({ heartbeatAt: new Date() })
      .where(and(eq(conversationRuns.id, run.id), eq(conversationRuns.state, "running")))
      .then(() =>
        services.realtime.publishEphemeral(
          {
            conversationId: run.conversationId,
            turnId: run.turnId,
            runId: run.id,
            kind: "run_heartbeat",
            payload: { at: new Date().toISOString() },
          },
          true,
        ),
      )
      .catch((error) => services.log.warn({ err: error, runId: run.id }, "heartbeat failed"));
  }, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return timer;
}

/** The run ended (canceled, reaped) while its runner was still going: it must not write anything more. */
class RunEnded extends Error {}

/**
 * A node of the run, made the run's active node, only while the run is still running: a cancel that finished the
 * run a moment earlier would never close a node made after it (it stayed "streaming" for good). The row lock
 * orders this against finishRun's update of the run. The events announcing the node are written in the same
 * transaction and published after it commits; the run's first node announces the run's start with it (one write
 * fewer on the way to the first token, and the start is told only once the run got that far).
 */
async function createNode(
  scope: RunScope,
  values: Pick<NodeRow, "kind" | "state" | "parentId" | "data"> & { id?: string },
  announce: (node: NodeRow) => EventDraft[],
): Promise<NodeRow> {
  const { services, run } = scope;
  scope.position += 1;
  const node = newNode({
    ...values,
    id: values.id ?? uuidv7(),
    conversationId: run.conversationId,
    turnId: run.turnId,
    turnSeq: run.turnSeq,
    position: scope.position,
    runId: run.id,
  });
  const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id };
  const start: EventDraft[] = scope.announceStart
    ? [
        { ...base, kind: "run_started", payload: { run: presentRun(run) } },
        { ...base, kind: "typing_start", payload: {} },
      ]
    : [];
  const announcement = services.realtime.recording([...start, ...announce(node)]);
  // One batch: the transaction holds the database only while its statements run.
  const statements = stepStatements(services.db);
  const outcome = await services.database.batch([
    statements.insertNode(node),
    statements.makeActive({ runId: run.id, nodeId: node.id }),
    batchStatement(announcement.query),
  ]);
  if (!outcome.ok) throw new RunEnded("The run ended before its next node was created");
  scope.announceStart = false;
  const events = announcement.envelopes(outcome.results[2]!.rows);
  services.realtime.publish(events);
  return node;
}

async function runStep(
  scope: RunScope,
  definition: AgentDefinition,
  choice: Awaited<ReturnType<typeof resolveModel>>,
  tools: Tool[],
  variables: Record<string, Record<string, unknown>>,
  /** The conversation as this step's prompt sees it, read before the step's node is created. */
  contextRead: ReturnType<typeof contextNodes>,
): Promise<{ nodeId: string; toolCalls: ToolCallRecord[]; ended: boolean }> {
  const { services, run, signal } = scope;
  // The provider request goes out as soon as the prompt is ready, while the node's row and message_created are
  // written: the context was read first so it is not queued behind that transaction. Deltas that arrive before
  // message_created is published are held, so clients still see the message before its text.
  const nodeId = uuidv7();
  const stream: NodeStream = services.streams.openStream(
    { conversationId: run.conversationId, turnId: run.turnId, runId: run.id, nodeId },
    { held: true },
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
    );
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
    prompt = assemblePrompt({ definition, variables, tools, history: toPromptMessages(context, nodeId) });
    scope.onProviderCall?.();
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
  let node: Awaited<typeof announced>;
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
    // Keep what was streamed before the failure on the node (finishRun marks it errored or stopped), and do it
    // while the stream is still open: a cancel finishing the run meanwhile either finds the stream and freezes
    // its text, or finds this text on the node. Never overwrite a node a cancel already finalized.
    await services.db
      .update(nodes)
      .set({ content: stream.text })
      .where(and(eq(nodes.id, node.id), eq(nodes.state, "running")));
  }
  // A reply that ends its run: clients have its text already, so its last write gives way to statements other runs
  // wait on. The stream stays open meanwhile, so a cancel in between still finds the full text.
  const endsRun = !failure && result!.toolCalls.length === 0;
  if (endsRun) await services.database.idle();
  await services.streams.close(stream);
  const statements = stepStatements(services.db);
  const recordCall = statements.insertCall({
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
    await services.database.batch([recordCall]);
    throw failure;
  }
  const toolCalls: ToolCallRecord[] = result!.toolCalls.map((call) => ({
    callId: call.callId,
    name: call.name,
    argsText: call.argsText,
  }));
  const text = stream.text;
  // Finalize and compact in one batch: the chunks go, stream_complete carries the full text. A reply without tool
  // calls ends the run in the same batch. When the node was no longer running, whoever ended it compacted its
  // chunks already: nothing here is kept but the call's record, and the run's end takes the general path.
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
  const finalize = [
    statements.finishNode({
      nodeId: node.id,
      content: finished.content,
      data: JSON.stringify(finished.data),
      finishedAt: finished.finishedAt!.toISOString(),
    }),
    statements.dropChunks({ nodeId: node.id }),
  ];
  // Aborted already (a cancel on its way to end the run): the run is left for it to end.
  const ending = endsRun && !signal.aborted ? succeededEnding(services, run) : undefined;
  const completion = services.realtime.recording([completed, ...(ending?.drafts ?? [])]);
  const outcome = await services.database.batch([
    recordCall,
    ...finalize,
    ...(ending?.statements ?? []),
    batchStatement(completion.query),
  ]);
  if (outcome.ok) {
    const events = completion.envelopes(outcome.results.at(-1)!.rows);
    // A run that ended here is over whatever the signal says; one still running publishes nothing once aborted.
    if (signal.aborted && !ending) return { nodeId: node.id, toolCalls: [], ended: false };
    services.realtime.publish(events);
    return { nodeId: node.id, toolCalls, ended: Boolean(ending) };
  }
  // Rolled back whole: the call is recorded alone, and the node finalized unless someone else did.
  await services.database.batch([recordCall]);
  const alone = services.realtime.recording([completed]);
  const finalized = await services.database.batch([...finalize, batchStatement(alone.query)]);
  if (signal.aborted) return { nodeId: node.id, toolCalls: [], ended: false };
  if (finalized.ok) services.realtime.publish(alone.envelopes(finalized.results.at(-1)!.rows));
  return { nodeId: node.id, toolCalls, ended: false };
}

async function runTools(
  scope: RunScope,
  definition: AgentDefinition,
  tools: Tool[],
  agentNodeId: string,
  calls: ToolCallRecord[],
): Promise<void> {
  const { services, run, signal } = scope;
  const byName = new Map(tools.map((t) => [t.name, t]));
  for (const [index, call] of calls.entries()) {
    if (signal.aborted) return;
    let args: unknown;
    let parseError: string | undefined;
    try {
      args = call.argsText.trim() ? JSON.parse(call.argsText) : {};
    } catch {
      parseError = "Invalid arguments: not valid JSON";
    }
    const base = { conversationId: run.conversationId, turnId: run.turnId, runId: run.id, nodeId: uuidv7() };
    const task = await createNode(
      scope,
      {
        id: base.nodeId,
        kind: "task",
        state: "running",
        parentId: agentNodeId,
        data: {
          callId: call.callId,
          name: call.name,
          argsText: call.argsText,
          args,
        } satisfies TaskData as unknown as Record<string, unknown>,
      },
      (task) => [{ ...base, kind: "tool_call", payload: { messageId: agentNodeId, part: presentToolPart(task) } }],
    );
    scope.activity.lastOutputAt = Date.now();
    const tool = byName.get(call.name);
    const outcome =
      index >= MAX_TOOL_CALLS_PER_RESPONSE
        ? {
            output: `Too many tool calls in one response (the limit is ${MAX_TOOL_CALLS_PER_RESPONSE}); this one was not run.`,
            isError: true,
            durationMs: 0,
          }
        : parseError
          ? { output: parseError, isError: true, durationMs: 0 }
          : !tool
            ? {
                output: `There is no tool named "${call.name}". Available tools: ${[...byName.keys()].join(", ") || "none"}.`,
                isError: true,
                durationMs: 0,
              }
            : await runTool(tool, args, {
                services,
                log: services.log,
                account: scope.account,
                agent: { id: scope.agent.id, name: definition.manifest.name, localPath: scope.agent.localPath },
                conversationId: run.conversationId,
                signal,
                ...(scope.embedder ? { embedder: scope.embedder } : {}),
              });
    if (signal.aborted) return;
    const data: TaskData = {
      callId: call.callId,
      name: call.name,
      argsText: call.argsText,
      args,
      output: outcome.output,
      ...("summary" in outcome && outcome.summary ? { summary: outcome.summary } : {}),
      isError: Boolean(outcome.isError),
      durationMs: outcome.durationMs,
      ...("metadata" in outcome && outcome.metadata ? { metadata: outcome.metadata } : {}),
    };
    const [finished] = await services.db
      .update(nodes)
      .set({ state: "finished", data: data as unknown as Record<string, unknown>, finishedAt: new Date() })
      .where(eq(nodes.id, task.id))
      .returning();
    await services.realtime.emit(services.db, [
      { ...base, kind: "tool_result", payload: { messageId: agentNodeId, part: presentToolPart(finished!) } },
    ]);
  }
}
