import { z } from "zod";

export const runState = z.enum(["queued", "running", "succeeded", "failed", "canceled"]);
export type RunState = z.infer<typeof runState>;

/** Stable error codes a run can fail with; the UI words each one for people. */
export const runErrorCode = z.enum([
  "timeout",
  "connection_error",
  "http_error",
  "rate_limited",
  "auth_failed",
  "context_too_long",
  "empty_response",
  "invalid_response",
  "no_provider_for_model",
  "stale_run",
  "interrupted",
  "tool_loop_limit",
  "agent_program_error",
  "internal_error",
]);
export type RunErrorCode = z.infer<typeof runErrorCode>;

export const runError = z.object({
  code: runErrorCode,
  message: z.string(),
  status: z.number().int().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type RunError = z.infer<typeof runError>;

/** What one step of a run does: call the model, run a tool, or wait on something outside the run. */
export const stepKinds = [
  "model_call",
  "tool_call",
  "await_approval",
  "await_directive",
  "await_run",
  "await_hook",
] as const;
export const stepKind = z.enum(stepKinds);
export type StepKind = z.infer<typeof stepKind>;

/** A step is pending, then running (or waiting, for the await_* kinds), then ends one of four ways. */
export const stepStates = ["pending", "running", "waiting", "succeeded", "failed", "canceled", "interrupted"] as const;
export const stepState = z.enum(stepStates);
export type StepState = z.infer<typeof stepState>;

/** The moments an agent program's hooks (agent.yml `hooks`) run at. */
export const hookNames = ["on_conversation_start", "before_inference", "after_tool_call"] as const;
export const hookName = z.enum(hookNames);
export type HookName = z.infer<typeof hookName>;

/**
 * One run of a hook, as a reply's details show it. `warning` says why the turn went on with the static config
 * (the hook failed, timed out, printed no JSON, or could not run); null when its output was applied.
 */
export const hookExecution = z.object({
  id: z.string(),
  hook: hookName,
  state: z.enum(["waiting", "succeeded", "failed", "timed_out", "canceled", "skipped"]),
  directiveId: z.string().nullable(),
  /** The tool call's task node, for after_tool_call. */
  toolCallNodeId: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  /** The end of what it printed on stderr. */
  stderr: z.string(),
  /** The JSON it answered, as it was applied. */
  output: z.record(z.string(), z.unknown()).nullable(),
  warning: z.string().nullable(),
});
export type HookExecution = z.infer<typeof hookExecution>;

/** What a `hook_warning` event says: which hook, its step, what went wrong, and the end of its stderr. */
export const hookWarningPayload = z.object({
  hook: hookName,
  stepId: z.string(),
  message: z.string(),
  stderr: z.string(),
});

/** A hook warning as a messages page carries it, so the line under a reply outlives the live event. */
export const hookWarning = hookWarningPayload.extend({
  runId: z.string(),
  /** The tool call's task node, for after_tool_call. */
  nodeId: z.string().nullable(),
});
export type HookWarning = z.infer<typeof hookWarning>;
