import type { HookExecution, HookName, HookWarning } from "@cybros/protocol";
import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { scriptCommand, scriptRequest } from "../../agents/scripts.js";
import { directiveInsert } from "../../conduits/directives.js";
import { decideDirective } from "../../conduits/policy.js";
import type { ToolCallRecord } from "../../conversations/present.js";
import { batchStatement } from "../../db/index.js";
import { nodes, runSteps } from "../../db/schema.js";
import { uuidv7 } from "../../ids.js";
import type { EventDraft } from "../../realtime/index.js";
import type { Services } from "../../services.js";
import type { DirectiveOutcome, Tool, ToolResult } from "../../tools/define.js";
import { agentFolderFacility } from "../../workspaces/index.js";
import { type StepRow, stepWrites } from "../store.js";
import { waitOn } from "./await.js";
import { directiveKey } from "./await-directive.js";
import { noteStep, type RunScope, startDrafts, stepRow } from "./scope.js";

/**
 * Hooks (agent.yml `hooks`): executables in the agent's folder run as directives on the local territory, the run
 * waiting on each at no cost (an await_hook step keyed `directive:<id>`, resolved by followDirectives).
 * `on_conversation_start` runs before the first model call of a conversation's first turn, `before_inference`
 * before every model call, `after_tool_call` after every tool result. A hook that cannot run, fails, times out or
 * answers no JSON changes nothing: the turn goes on with the static config and a `hook_warning` says why.
 */

/** A tool's result as after_tool_call gets it and may change it. */
export type ToolOutcome = ToolResult & { durationMs: number };

/** What an await_hook step keeps as its input. */
export interface HookStepInput {
  hook: HookName;
  directiveId: string | null;
  timeoutSeconds: number;
  /** before_inference: the model call of the run it runs before (0 for the first). */
  modelCall?: number;
  /** after_tool_call: the tool's result before the hook. */
  result?: ToolOutcome;
  toolNodeId?: string | null;
}

/** What a hook may answer (JSON on stdout or in the CYBROS_HOOK_OUTPUT file); keys it does not know are ignored. */
const hookOutput = z.looseObject({
  /** Prompt variables, merged per namespace over the run's (they render in the stable prompt). */
  variables: z
    .strictObject({
      agent: z.record(z.string(), z.unknown()),
      user: z.record(z.string(), z.unknown()),
      conversation: z.record(z.string(), z.unknown()),
      turn: z.record(z.string(), z.unknown()),
      facts: z.record(z.string(), z.unknown()),
      args: z.record(z.string(), z.unknown()),
    })
    .partial()
    .optional(),
  /** Volatile context: text after the conversation, outside the cached prefix. */
  context: z.union([z.string().max(20_000), z.array(z.string().max(20_000)).max(20)]).optional(),
  /** The tools this model call is offered, within the agent's own (never more). */
  tools: z.array(z.string()).max(200).optional(),
  persona: z.string().optional(),
  /** after_tool_call: the result the model reads instead, and/or a note appended to it. */
  output: z.string().max(50_000).optional(),
  annotation: z.string().max(20_000).optional(),
  summary: z.string().max(500).optional(),
});
export type HookOutput = z.infer<typeof hookOutput>;

const STDERR_EXCERPT_CHARS = 2_000;
const MAX_MESSAGE_CHARS = 200_000;

/** The file agent.yml declares for `hook`, if any. */
export function declaredHook(scope: RunScope, hook: HookName): string | undefined {
  return scope.definition.manifest.hooks?.[hook];
}

/**
 * Starts `hook`: its directive, the await_hook step that waits on it, and the run's release in one transaction
 * (with `toolStep`, that step waits; otherwise the run does). Answers "waiting", or the step recording that it
 * could not run (a warning is out already).
 */
export async function startHook(
  scope: RunScope,
  hook: HookName,
  options: {
    toolStep?: StepRow;
    input?: Partial<HookStepInput>;
    payload: Record<string, unknown>;
  },
): Promise<"waiting" | StepRow> {
  const { services } = scope;
  const manifestHooks = scope.definition.manifest.hooks!;
  const file = manifestHooks[hook]!;
  const timeoutSeconds = manifestHooks.timeout_seconds;
  const input: HookStepInput = { ...options.input, hook, directiveId: null, timeoutSeconds };
  const skip = (reason: string) => skipHook(scope, options.toolStep ?? null, input, reason);

  const workspace = await agentFolderFacility(services, {
    accountId: scope.account.id,
    localPath: scope.agent.localPath,
  });
  if (!workspace) return skip("no local machine is set up to run hooks on (System settings → Territories)");
  if (workspace.territory.status !== "online") {
    return skip(`the local machine "${workspace.territory.name}" is ${workspace.territory.status}`);
  }
  const command = await scriptCommand(scope.definition.realPath, file);
  if ("problem" in command) return skip(command.problem);
  const json = JSON.stringify({
    event: hook,
    conversation_id: scope.run.conversationId,
    turn_id: scope.run.turnId,
    run_id: scope.run.id,
    agent: { id: scope.agent.id, name: scope.definition.manifest.name },
    message: (await turnMessage(scope)).slice(0, MAX_MESSAGE_CHARS),
    variables: scope.variables,
    ...options.payload,
  });
  const planned = scriptRequest({
    argv: command.argv,
    json,
    inputVariable: "CYBROS_HOOK_INPUT",
    outputVariable: "CYBROS_HOOK_OUTPUT",
    timeoutSeconds,
  });
  const policy = await decideDirective(services, {
    accountId: scope.account.id,
    agentProgramId: scope.agent.id,
    facilityId: workspace.facilityId,
    request: planned,
  });
  if (policy.decision === "forbidden") return skip(`the policy forbids it (${policy.reasons.join("; ")})`);
  if (policy.decision === "needs_approval") {
    return skip(`the policy asks a person to approve it (${policy.reasons.join("; ")}), and hooks do not wait`);
  }
  const waitId = uuidv7();
  const directive = directiveInsert(services, {
    facility: {
      id: workspace.facilityId,
      accountId: scope.account.id,
      territoryId: workspace.territory.id,
      kind: workspace.kind,
      root: workspace.root,
    },
    request: { ...planned, driver: policy.driver, capabilities: { network: policy.network } },
    runStepId: waitId,
  });
  const announce = startDrafts(scope);
  const waiting = await waitOn(scope, options.toolStep ?? null, {
    kind: "await_hook",
    id: waitId,
    key: directiveKey(directive.row.id),
    input: { ...input, directiveId: directive.row.id } as unknown as Record<string, unknown>,
    alongside: [directive.statement],
    announce,
  });
  if (waiting) {
    scope.announceStart = false;
    services.conduits.claimable(workspace.territory.id);
  }
  return "waiting";
}

/** A hook that could not run: its step (failed, with why) and the warning, written together. */
async function skipHook(
  scope: RunScope,
  toolStep: StepRow | null,
  input: HookStepInput,
  reason: string,
): Promise<StepRow> {
  const { services } = scope;
  const step = stepRow(scope, {
    kind: "await_hook",
    state: "failed",
    input: (toolStep ? { ...input, toolStepId: toolStep.id } : input) as unknown as Record<string, unknown>,
    output: { skipped: reason },
    finishedAt: new Date(),
  });
  const warning = warningDraft(scope, step, `could not run: ${reason}`, "");
  const announcement = services.realtime.recording([...startDrafts(scope), warning]);
  const written = await services.database.batch([
    stepWrites(services.db).save(step),
    batchStatement(announcement.query),
  ]);
  if (written.ok) {
    scope.announceStart = false;
    noteStep(scope, step);
    services.realtime.publish(announcement.envelopes(written.results.at(-1)!.rows));
  }
  return step;
}

/** How a hook's step ended, as the run applies it and a reply's details show it. */
export function hookVerdict(step: StepRow): Omit<HookExecution, "id" | "hook" | "toolCallNodeId"> & {
  applied: HookOutput | null;
} {
  const input = step.input as unknown as HookStepInput;
  const base = { directiveId: input.directiveId ?? null, exitCode: null, durationMs: null, stderr: "" };
  if (step.state === "waiting" || step.state === "pending" || step.state === "running") {
    return { ...base, state: "waiting", output: null, warning: null, applied: null };
  }
  const skipped = step.output?.skipped;
  if (typeof skipped === "string") {
    return { ...base, state: "skipped", output: null, warning: `could not run: ${skipped}`, applied: null };
  }
  if (step.state !== "succeeded" || !step.output) {
    return { ...base, state: "canceled", output: null, warning: null, applied: null };
  }
  const outcome = step.output as unknown as DirectiveOutcome;
  const stderr =
    outcome.stderr.length > STDERR_EXCERPT_CHARS ? `…${outcome.stderr.slice(-STDERR_EXCERPT_CHARS)}` : outcome.stderr;
  const ran = { ...base, exitCode: outcome.exitCode, durationMs: outcome.durationMs, stderr };
  const failed = (state: HookExecution["state"], warning: string) => ({
    ...ran,
    state,
    output: null,
    warning,
    applied: null,
  });
  if (outcome.state === "timed_out") return failed("timed_out", `timed out after ${input.timeoutSeconds} s`);
  if (outcome.state === "canceled") {
    return failed("canceled", `was stopped${outcome.endReason ? ` (${outcome.endReason})` : ""}`);
  }
  if (outcome.exitCode === null) {
    return failed("failed", `could not start${outcome.endReason ? ` (${outcome.endReason})` : ""}`);
  }
  if (outcome.exitCode !== 0) return failed("failed", `failed with exit code ${outcome.exitCode}`);
  const text = outcome.stdout.trim();
  if (!text) return { ...ran, state: "succeeded", output: {}, warning: null, applied: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failed("failed", `answered something that is not JSON: ${text.split("\n", 1)[0]!.slice(0, 120)}`);
  }
  const parsed = hookOutput.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join(".");
    return failed("failed", `answered JSON that does not fit: ${where ? `${where}: ` : ""}${issue.message}`);
  }
  return { ...ran, state: "succeeded", output: json as Record<string, unknown>, warning: null, applied: parsed.data };
}

/** A `hook_warning` draft for a hook's step: what went wrong, and what the hook said on stderr. */
function warningDraft(scope: RunScope, step: StepRow, problem: string, stderr: string): EventDraft {
  const input = step.input as unknown as HookStepInput;
  const { run } = scope;
  return {
    conversationId: run.conversationId,
    turnId: run.turnId,
    runId: run.id,
    nodeId: input.toolNodeId ?? null,
    kind: "hook_warning",
    payload: hookWarningPayload(step, problem, stderr),
  };
}

function hookWarningPayload(step: StepRow, problem: string, stderr: string) {
  const { hook } = step.input as unknown as HookStepInput;
  return {
    hook,
    stepId: step.id,
    message: `The ${hook} hook ${problem}; the turn went on without it.`,
    stderr: stderr.slice(-STDERR_EXCERPT_CHARS),
  };
}

/** The problems a finished hook's step is warned about (a skipped one's too: "could not run: …"). */
function hookProblems(verdict: ReturnType<typeof hookVerdict>): { problem: string; stderr: string }[] {
  const problems: { problem: string; stderr: string }[] = [];
  if (verdict.warning) problems.push({ problem: verdict.warning, stderr: verdict.stderr });
  if (verdict.applied?.persona !== undefined) {
    problems.push({ problem: "asked for a persona, which this agent program has none of (ignored)", stderr: "" });
  }
  return problems;
}

/** The warnings a finished hook's step calls for (none when it was skipped: that warning went out already). */
function hookWarnings(scope: RunScope, step: StepRow, verdict: ReturnType<typeof hookVerdict>): EventDraft[] {
  if (verdict.state === "skipped") return [];
  return hookProblems(verdict).map(({ problem, stderr }) => warningDraft(scope, step, problem, stderr));
}

/** The `hook_warning`s a hook's step gave, rebuilt from the step: what a messages page shows after the events. */
export function hookStepWarnings(step: StepRow): HookWarning[] {
  const input = step.input as unknown as HookStepInput;
  return hookProblems(hookVerdict(step)).map(({ problem, stderr }) => ({
    ...hookWarningPayload(step, problem, stderr),
    runId: step.runId,
    nodeId: input.toolNodeId ?? null,
  }));
}

/** The hook warnings of these runs, in the order their hooks ran. */
export async function hookWarningsOf(services: Services, runIds: readonly string[]): Promise<HookWarning[]> {
  if (runIds.length === 0) return [];
  const steps = await services.db
    .select()
    .from(runSteps)
    .where(and(inArray(runSteps.runId, [...runIds]), eq(runSteps.kind, "await_hook")))
    .orderBy(asc(runSteps.runId), asc(runSteps.ordinal));
  return steps.flatMap(hookStepWarnings);
}

/** What the model call is built with after the hooks before it: variables, volatile context, tools offered. */
export interface PromptAdjustments {
  variables: Record<string, Record<string, unknown>>;
  volatile: { name: string; text: string }[];
  tools: Tool[];
}

/** Whether a model call of this run may wait on a hook first. */
export function declaresHooksBeforeModelCall(scope: RunScope): boolean {
  return Boolean(
    (declaredHook(scope, "on_conversation_start") && scope.run.turnSeq === 1) ||
      declaredHook(scope, "before_inference"),
  );
}

/**
 * The hooks before a model call: `on_conversation_start` (the conversation's first turn, before its first model
 * call; its answer holds for that whole run) and `before_inference` (each model call). Answers "waiting" when one
 * is started, else how the call's prompt is adjusted (the static config when no hook says otherwise).
 */
export async function hooksBeforeModelCall(scope: RunScope): Promise<"waiting" | PromptAdjustments> {
  const modelCall = scope.steps.filter((s) => s.kind === "model_call" && s.state === "succeeded").length;
  const ran: { step: StepRow; fresh: boolean }[] = [];
  if (declaredHook(scope, "on_conversation_start") && scope.run.turnSeq === 1) {
    const step = runHook(scope, "on_conversation_start");
    if (step) ran.push({ step, fresh: modelCall === 0 });
    else if (modelCall === 0) {
      const started = await startHook(scope, "on_conversation_start", { payload: {} });
      if (started === "waiting") return "waiting";
      ran.push({ step: started, fresh: true });
    }
  }
  if (declaredHook(scope, "before_inference")) {
    const step = runHook(scope, "before_inference", modelCall);
    if (step) ran.push({ step, fresh: true });
    else {
      const started = await startHook(scope, "before_inference", {
        input: { modelCall },
        payload: { model_call: modelCall },
      });
      if (started === "waiting") return "waiting";
      ran.push({ step: started, fresh: true });
    }
  }
  const adjusted: PromptAdjustments = { variables: { ...scope.variables }, volatile: [], tools: scope.tools };
  const warnings: EventDraft[] = [];
  for (const { step, fresh } of ran) {
    const verdict = hookVerdict(step);
    if (fresh) warnings.push(...hookWarnings(scope, step, verdict));
    const out = verdict.applied;
    if (!out) continue;
    for (const [namespace, values] of Object.entries(out.variables ?? {})) {
      adjusted.variables[namespace] = { ...adjusted.variables[namespace], ...values };
    }
    const context = typeof out.context === "string" ? [out.context] : (out.context ?? []);
    const text = context.filter((part) => part.trim()).join("\n\n");
    if (text) adjusted.volatile.push({ name: `hook:${(step.input as unknown as HookStepInput).hook}`, text });
    if (out.tools) {
      const allowed = new Set(out.tools);
      adjusted.tools = adjusted.tools.filter((tool) => allowed.has(tool.name));
    }
  }
  if (warnings.length) {
    const events = await scope.services.realtime.record(scope.services.db, warnings);
    scope.services.realtime.publish(events);
  }
  return adjusted;
}

/** The run's step of `hook` (for before_inference, the one before model call `modelCall`). */
function runHook(scope: RunScope, hook: HookName, modelCall?: number): StepRow | undefined {
  return scope.steps.find((step) => {
    if (step.kind !== "await_hook" || step.input.toolStepId) return false;
    const input = step.input as unknown as HookStepInput;
    return input.hook === hook && (modelCall === undefined || input.modelCall === modelCall);
  });
}

/** The after_tool_call hook's step of a tool call, once there is one. */
export function toolHookOf(scope: RunScope, toolStep: StepRow): StepRow | undefined {
  return scope.steps.find((step) => step.kind === "await_hook" && step.input.toolStepId === toolStep.id);
}

/** Starts after_tool_call for a tool call's result; answers "waiting", or the step recording it could not run. */
export function startAfterToolCall(
  scope: RunScope,
  toolStep: StepRow,
  call: ToolCallRecord & { args: unknown },
  result: ToolOutcome,
): Promise<"waiting" | StepRow> {
  return startHook(scope, "after_tool_call", {
    toolStep,
    input: { result, toolNodeId: toolStep.nodeId },
    payload: {
      tool_call: { id: call.callId, name: call.name, arguments: call.args ?? null },
      tool_result: {
        output: result.output,
        summary: result.summary ?? null,
        is_error: Boolean(result.isError),
        metadata: result.metadata ?? null,
      },
    },
  });
}

/**
 * A tool's result after its after_tool_call hook: `output` replaces what the model reads, `annotation` is added
 * after it, `summary` replaces the card's line. With the warnings to publish alongside the result.
 */
export function afterToolCall(scope: RunScope, hookStep: StepRow): { outcome: ToolOutcome; warnings: EventDraft[] } {
  const input = hookStep.input as unknown as HookStepInput;
  const original = input.result!;
  const verdict = hookVerdict(hookStep);
  const warnings = hookWarnings(scope, hookStep, verdict);
  const out = verdict.applied;
  if (!out || (out.output === undefined && out.annotation === undefined && out.summary === undefined)) {
    return { outcome: original, warnings };
  }
  const output = out.output ?? original.output;
  return {
    outcome: {
      ...original,
      output: out.annotation ? `${output}\n\n${out.annotation}` : output,
      ...(out.summary !== undefined ? { summary: out.summary } : {}),
      metadata: {
        ...original.metadata,
        hook: {
          rewritten: out.output !== undefined,
          ...(out.annotation ? { annotation: out.annotation } : {}),
        },
      },
    },
    warnings,
  };
}

/** The user message the run's turn answers. */
async function turnMessage(scope: RunScope): Promise<string> {
  const [row] = await scope.services.db
    .select({ content: nodes.content })
    .from(nodes)
    .where(and(eq(nodes.turnId, scope.run.turnId), eq(nodes.kind, "user_message")))
    .orderBy(asc(nodes.position))
    .limit(1);
  return row?.content ?? "";
}
