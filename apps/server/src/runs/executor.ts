import type { RunError } from "@cybros/protocol";
import { type AgentDefinition, loadAgentProgramAsOf } from "../agents/loader.js";
import { contextNodes } from "../conversations/context.js";
import type { RunRow } from "../conversations/present.js";
import { titleAfterReply } from "../conversations/title.js";
import { nodeQueries } from "../db/queries/nodes.js";
import { runQueries } from "../db/queries/runs.js";
import { embedderFor } from "../memory/account-embedder.js";
import { enabledProviders, NoProviderForModelError, resolveModel } from "../providers/resolve.js";
import type { Services } from "../services.js";
import { customToolsOf } from "../tools/custom.js";
import { toolsFor } from "../tools/registry.js";
import { declaresHooksBeforeModelCall, hooksBeforeModelCall } from "./steps/hooks.js";
import { modelCall } from "./steps/model-call.js";
import { RunEnded, RunFailure, type RunScope, toRunError } from "./steps/scope.js";
import { type ToolCallInput, toolCall } from "./steps/tool-call.js";
import { closeNodes, endRun, HEARTBEAT_INTERVAL_MS, releaseRun, renewLease, type StepRow, stepsOf } from "./store.js";
import { NotStartedHere, type UnwrittenSend } from "./unwritten-send.js";

export const MAX_MODEL_CALLS_PER_TURN = 10;

/** The abort reason used when the server shuts down: the run is handed back as it stands, for the next start. */
export const SHUTDOWN = "shutdown";
/** The run's lease went to another process (this one stalled past it): stop here and write nothing more. */
export const LEASE_LOST = "lease_lost";
const INTERRUPTED: RunError = {
  code: "interrupted",
  message: "The server stopped while this reply was being written. Retry to run it again.",
};

/**
 * Advances one claimed run from its step rows until it ends or waits: a model call, the tool calls it asked for,
 * the next model call… A run that waits is handed back (its lease released with the wait's row) and this returns:
 * nothing of it stays in memory. `resumed`: the run was claimed after its lease lapsed or its wait ended, so its
 * rows say where it is; a fresh run has none, and reads none.
 */
export async function executeRun(
  services: Services,
  run: RunRow,
  signal: AbortSignal,
  /**
   * `onStarted`: called as each step gets under way (the scheduler's start phase ends at the first). `send`: the
   * run started before its send was written; its first batch writes the send too (unwritten-send.ts).
   */
  options: { workerId: string; resumed: boolean; onStarted?: () => void; send?: UnwrittenSend },
): Promise<void> {
  const { send } = options;
  const activity = { lastOutputAt: Date.now() };
  const heartbeat = startHeartbeat(services, run, options.workerId, activity, send);
  try {
    // Independent reads sent together: on PGlite they reach its thread back to back (decisions/0009). A fresh run's
    // first context is read now too: it is ready when the agent program is, instead of one more round trip after.
    // An unwritten send's message is not in the database yet: it ends the context.
    let firstContext = options.resumed
      ? undefined
      : contextNodes(services.db, run.conversationId, run.turnSeq).then((nodes) =>
          send ? [...nodes, send.plan.node] : nodes,
        );
    firstContext?.catch(() => {}); // awaited by the first step; a run that fails before it reports its own error
    const [row, providers, steps, blocked] = await Promise.all([
      runQueries(services.db).subject({ conversationId: run.conversationId, turnId: run.turnId }),
      enabledProviders(services.db, { conversationId: run.conversationId }),
      options.resumed ? stepsOf(services, run.id) : ([] as StepRow[]),
      // Known now, it costs no provider request that its batch would throw away.
      send &&
        runQueries(services.db).startBlocked({
          conversationId: run.conversationId,
          clientMessageId: send.plan.clientMessageId,
        }),
    ]);
    if (blocked) throw new NotStartedHere();
    if (!row) return; // deleted meanwhile
    const definition = await loadShared(row.agent.localPath, run.queuedAt, signal).catch((error) => {
      if (signal.aborted) throw error;
      throw new RunFailure({
        code: "agent_program_error",
        message: `The agent program could not be loaded: ${(error as Error).message}`,
      });
    });
    const tools = [...toolsFor(definition.manifest.tools.allow), ...customToolsOf(definition, services.log)];
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
    const scope: RunScope = {
      services,
      run,
      send,
      workerId: options.workerId,
      signal,
      account: row.account,
      agent: row.agent,
      definition,
      choice,
      tools,
      variables: {
        user: { name: row.user.displayName ?? "" },
        conversation: { id: row.conversation.id, title: row.conversation.title },
        args: row.agent.args,
      },
      position: row.maxPosition,
      steps,
      activity,
      announceStart: steps.length === 0,
      embedder,
      onStarted: options.onStarted,
    };
    let retry = await recoverInterrupted(scope);
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const next = nextStep(scope.steps);
      if (next === "wait") {
        await releaseRun(services, run, options.workerId);
        return;
      }
      if (next === "model_call") {
        if (scope.steps.filter((s) => s.kind === "model_call").length >= MAX_MODEL_CALLS_PER_TURN && !retry) {
          await endRun(services, run, {
            state: "failed",
            error: {
              code: "tool_loop_limit",
              message: `The agent used tools for ${MAX_MODEL_CALLS_PER_TURN} steps without answering.`,
            },
          });
          return;
        }
        // Hooks wait on directives, written with the run's rows: the send is queued and runs from its rows.
        if (send?.pending && declaresHooksBeforeModelCall(scope)) throw new NotStartedHere();
        const prompt = await hooksBeforeModelCall(scope);
        if (prompt === "waiting") return;
        const context = firstContext ?? contextNodes(services.db, run.conversationId, run.turnSeq);
        firstContext = undefined;
        const outcome = await modelCall(scope, context, retry, prompt);
        retry = undefined;
        if (outcome.ended) {
          // The model call ended the run as succeeded; the first success names the conversation.
          void titleAfterReply(services, run);
          return;
        }
        if (signal.aborted) throw signal.reason;
        if (outcome.toolCalls.length === 0) {
          await endRun(services, run, { state: "succeeded" });
          void titleAfterReply(services, run);
          return;
        }
        continue;
      }
      scope.onStarted?.();
      if ((await toolCall(scope, next)) === "waiting") return;
    }
  } catch (error) {
    // Stopped before the send was written (`finally` queues it) or it was written queued instead: nothing of the
    // run is here to end.
    if (send?.pending || error instanceof NotStartedHere) return;
    if (signal.aborted && signal.reason === LEASE_LOST) {
      await services.streams.abandonRun(run.id).catch(() => {});
      return;
    }
    if (signal.aborted && signal.reason === SHUTDOWN) {
      // Handed back as it stands: the next process to start resumes it from its rows.
      await releaseRun(services, run, options.workerId).catch(() => {});
      return;
    }
    if (signal.aborted || error instanceof RunEnded) {
      // Ended here, or already ended elsewhere (then this finds nothing left to end).
      await endRun(services, run, { state: "canceled" });
      return;
    }
    const runError = toRunError(error);
    if (runError.code === "internal_error") services.log.error({ err: error, runId: run.id }, "run crashed");
    else services.log.warn({ runId: run.id, code: runError.code, status: runError.status }, "run failed");
    await endRun(services, run, { state: "failed", error: runError });
  } finally {
    clearInterval(heartbeat);
    await send?.queue(); // it stopped before writing anything: the send is written queued (once)
  }
}

/**
 * What the run does next, from its steps: the first tool call not yet run; nothing while any step waits; else a
 * model call (the first, or the one that reads the tool results).
 */
function nextStep(steps: StepRow[]): StepRow | "model_call" | "wait" {
  if (steps.some((step) => step.state === "waiting")) return "wait";
  return steps.find((step) => step.kind === "tool_call" && step.state === "pending") ?? "model_call";
}

/**
 * A run claimed after its process died finds the step that was running then. A model call is repeated once as a
 * new attempt (the interrupted attempt's text stays on its message, marked interrupted); a tool call is repeated
 * only if the tool says running it twice is harmless, else the run stops there, interrupted, for a person to retry.
 * Answers the model call step to repeat.
 */
async function recoverInterrupted(scope: RunScope): Promise<StepRow | undefined> {
  const { services, run } = scope;
  const step = scope.steps.find((s) => s.state === "running");
  if (!step) return undefined;
  if (step.kind === "tool_call") {
    const { call } = step.input as unknown as ToolCallInput;
    const tool = scope.tools.find((t) => t.name === call.name);
    if (tool?.idempotent) {
      const again: StepRow = { ...step, state: "pending", attempt: step.attempt + 1 };
      scope.steps[scope.steps.indexOf(step)] = again;
      return undefined;
    }
    throw new RunFailure({
      code: "interrupted",
      message: `The server stopped while the tool ${call.name} was running. It may have done part of its work, so it was not run again. Retry to run the reply again.`,
    });
  }
  if (step.kind !== "model_call") throw new RunFailure(INTERRUPTED);
  if (step.attempt >= 2) throw new RunFailure(INTERRUPTED);
  if (step.nodeId) {
    const error: RunError = {
      code: "interrupted",
      message: "The server restarted while this was being written; it is written again below.",
    };
    const events = await services.db.transaction(async (tx) => {
      const open = await nodeQueries(tx).runningById(step.nodeId!);
      return services.realtime.record(tx, await closeNodes(tx, run, open, "errored", error, new Map()));
    });
    services.realtime.publish(events);
  }
  return step;
}

/**
 * Loads in flight, by folder, shared by the runs that start together: 200 sends at once are a few loads, not 200
 * reads racing the loader's 5 s limit. Edits made before a run's message was sent must show in its load, so a run
 * shares a load only if it started once the message was sent; otherwise it waits for the next one, which starts
 * when the current one ends and is shared by every run that came meanwhile.
 */
type Loaded = Awaited<ReturnType<typeof loadAgentProgramAsOf>>;
/** A folder's load in flight (started at `startedAt`), and the one that runs after it, if any run waits for it. */
type FolderLoad = { startedAt: number; load: Promise<Loaded>; next?: Promise<Loaded> };
const loading = new Map<string, FolderLoad>();

function startLoad(localPath: string): Promise<Loaded> {
  const startedAt = Date.now();
  const entry: FolderLoad = {
    startedAt,
    load: loadAgentProgramAsOf(localPath, { changesBefore: startedAt }),
  };
  loading.set(localPath, entry);
  void entry.load
    .catch(() => {})
    .finally(() => {
      if (loading.get(localPath) === entry) loading.delete(localPath);
    });
  return entry.load;
}

async function loadShared(localPath: string, sentAt: Date, signal: AbortSignal): Promise<AgentDefinition> {
  const entry = loading.get(localPath);
  let load: Promise<Loaded>;
  if (!entry) load = startLoad(localPath);
  else if (entry.startedAt >= sentAt.getTime()) load = entry.load;
  else {
    entry.next ??= entry.load.catch(() => {}).then(() => startLoad(localPath));
    load = entry.next;
  }
  return (await abortable(load, signal)).definition;
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

/** Renews the run's lease while it is advanced here, tells clients it is alive, and warns when it goes quiet. */
function startHeartbeat(
  services: Services,
  run: RunRow,
  workerId: string,
  activity: { lastOutputAt: number },
  send?: UnwrittenSend,
): NodeJS.Timeout {
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
    if (send?.pending) return; // no lease in the database yet
    renewLease(services, run, workerId)
      .then((held) => {
        if (!held) {
          // Ended meanwhile (its end stops this run here anyway), or taken over by another process.
          if (services.runs.stopHere(run.id, LEASE_LOST)) {
            services.log.warn({ runId: run.id }, "run lost its lease; another process continues it");
          }
          return;
        }
        services.realtime.publishEphemeral(
          {
            conversationId: run.conversationId,
            turnId: run.turnId,
            runId: run.id,
            kind: "run_heartbeat",
            payload: { at: new Date().toISOString() },
          },
          true,
        );
      })
      .catch((error) => services.log.warn({ err: error, runId: run.id }, "heartbeat failed"));
  }, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return timer;
}
