import type { ArtifactRef, DirectiveRequest, FinalDirectiveState } from "@cybros/protocol";
import { toStorableJson, toStorableText } from "@cybros/protocol";
import { z } from "zod";
import type { Account } from "../current.js";
import type { Logger } from "../log.js";
import type { Embedder } from "../memory/embedder.js";
import type { Services } from "../services.js";

/** What a tool may touch while it runs: the world via services, scoped to one agent and conversation. */
export interface ToolContext {
  services: Services;
  log: Logger;
  account: Account;
  agent: { id: string; name: string; localPath: string };
  conversationId: string;
  /** Aborted when the run is canceled; long tools must honour it. */
  signal: AbortSignal;
  /** The embedding model for memory tools; without one, memory is stored unembedded and searched by words. */
  embedder?: Embedder;
}

/** What the model reads back (`output`), the one line people see (`summary`), structured extras for the inspector. */
export interface ToolResult {
  /** One line about the result for the tool's card ("3 results", a page's title); failures default to the error. */
  summary?: string;
  output: string;
  metadata?: Record<string, unknown>;
  /** The tool ran but failed in a way the model should see and may correct. */
  isError?: boolean;
}

/**
 * A tool that runs elsewhere answers `execute` with this instead of a result: the command to run as a directive
 * on a Nexus, in `facilityId` (a workspace on a territory). The run waits at no cost until the directive ends;
 * then the tool's `finish` turns the outcome into the result.
 */
export interface RunDirective {
  directive: { facilityId: string; request: DirectiveRequest };
}

/** How a directive ended, as a directive tool's `finish` reads it (conduits/outcome.ts assembles it). */
export interface DirectiveOutcome {
  state: FinalDirectiveState;
  /** 124 after a timeout, 128+N after signal N; null when it never ran. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The output cap cut the stream. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** The structured result the command reported (a Nexus operation's answer), if any. */
  result: Record<string, unknown> | null;
  /** The facility's git diff after the command, when it is a repo. */
  diff: string | null;
  /** Why it ended without running to completion: "rejected" by a person, "forbidden" by policy, a timeout… */
  endReason: string | null;
  durationMs: number;
  /** The machine it ran on. */
  territory: { id: string; name: string };
  /** Files the command left in `$CYBROS_ARTIFACTS_DIR` (a screenshot), served at GET /api/artifacts/:id. */
  artifacts?: ArtifactRef[];
}

export interface Tool<P extends z.ZodType = z.ZodType> {
  name: string;
  /** What the call does, for people ("Searched the web for “cats”"); from the arguments, so shown from the start. */
  title(args: z.infer<P>): string;
  description: string;
  parameters: P;
  /** The arguments' JSON Schema as the model is offered it, when it was written as one (a custom tool's). */
  inputSchema?: Record<string, unknown>;
  /**
   * Running it twice has the effect of running it once (a read, a search). A call cut short by a server restart is
   * run again only then; otherwise the run stops there as interrupted, for a person to retry.
   */
  idempotent?: boolean;
  execute(args: z.infer<P>, context: ToolContext): Promise<ToolResult | RunDirective>;
  /**
   * A directive tool's result from how its directive ended (required when `execute` can answer a directive). It
   * may run in another process than `execute` did, after a restart: it gets what it needs from its arguments.
   */
  finish?(outcome: DirectiveOutcome, args: z.infer<P>, context: ToolContext): Promise<ToolResult> | ToolResult;
}

/** Tool errors the model can act on: the message goes to the model verbatim, no stack, no internals. */
export class ToolError extends Error {}

export function defineTool<P extends z.ZodType>(
  name: string,
  spec: {
    title(args: z.infer<P>): string;
    description: string;
    parameters: P;
    idempotent?: boolean;
    execute(args: z.infer<P>, context: ToolContext): Promise<ToolResult | RunDirective>;
    finish?(outcome: DirectiveOutcome, args: z.infer<P>, context: ToolContext): Promise<ToolResult> | ToolResult;
  },
): Tool<P> {
  return { name, ...spec };
}

/** JSON Schema for the model; stable key order so the tools section of the prompt never changes needlessly. */
export function toolJsonSchema(tool: Tool): Record<string, unknown> {
  if (tool.inputSchema) return tool.inputSchema;
  return z.toJSONSchema(tool.parameters, { target: "draft-7" }) as Record<string, unknown>;
}

export const MAX_TOOL_OUTPUT_CHARS = 50_000;
const MAX_SUMMARY_CHARS = 160;

/** The first line of `text`, cut to fit a card's one-line summary. */
export function oneLine(text: string): string {
  const line = text.trim().split("\n", 1)[0]!.trim();
  return line.length > MAX_SUMMARY_CHARS ? `${line.slice(0, MAX_SUMMARY_CHARS - 1)}…` : line;
}

/** Whether a tool's answer is a directive to run rather than a result. */
export function isRunDirective(answer: ToolResult | RunDirective): answer is RunDirective {
  return "directive" in answer;
}

type Timed = ToolResult & { durationMs: number };

/** A result as every tool's must be: output truncated and storable (a page or file may hold NUL or lone surrogates). */
function storableResult(result: ToolResult, durationMs: number): Timed {
  const output = toStorableText(result.output);
  return {
    ...result,
    ...(result.summary !== undefined ? { summary: toStorableText(result.summary) } : {}),
    output:
      output.length > MAX_TOOL_OUTPUT_CHARS
        ? `${output.slice(0, MAX_TOOL_OUTPUT_CHARS)}\n…[truncated ${output.length - MAX_TOOL_OUTPUT_CHARS} characters]`
        : output,
    ...(result.metadata ? { metadata: toStorableJson(result.metadata) } : {}),
    durationMs,
  };
}

/** The arguments as the tool's schema reads them, or the result that refuses them (the tool never sees them). */
export function parseToolArgs(tool: Tool, rawArgs: unknown): { args: unknown } | { refused: Timed } {
  const parsed = tool.parameters.safeParse(toStorableJson(rawArgs));
  if (parsed.success) return { args: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
  return { refused: storableResult({ output: `Invalid arguments: ${problems}`, isError: true }, 0) };
}

/**
 * Runs a tool the way every call must run: arguments validated against its schema, errors turned into results
 * the model can read, output truncated and made storable, time measured. The one wrapper all tools go through.
 * A directive tool may answer with the directive to run instead; `finishTool` later makes its result.
 */
export async function runTool(tool: Tool, rawArgs: unknown, context: ToolContext): Promise<Timed | RunDirective> {
  const started = performance.now();
  const parsed = parseToolArgs(tool, rawArgs);
  if ("refused" in parsed) return parsed.refused;
  try {
    const answer = await tool.execute(parsed.args, context);
    if (isRunDirective(answer)) return answer;
    return storableResult(answer, Math.round(performance.now() - started));
  } catch (error) {
    const elapsed = Math.round(performance.now() - started);
    if (error instanceof ToolError) return storableResult({ output: error.message, isError: true }, elapsed);
    context.log.error({ err: error, tool: tool.name }, "tool crashed");
    return storableResult({ output: "The tool failed unexpectedly.", isError: true }, elapsed);
  }
}

/** A directive tool's result from how its directive ended, made storable like any other. */
export async function finishTool(
  tool: Tool,
  outcome: DirectiveOutcome,
  rawArgs: unknown,
  context: ToolContext,
): Promise<Timed> {
  const parsed = parseToolArgs(tool, rawArgs);
  const args = "args" in parsed ? parsed.args : rawArgs;
  const log = context.log;
  try {
    const result = tool.finish
      ? await tool.finish(outcome, args, context)
      : { output: outcome.stdout + outcome.stderr, isError: outcome.state !== "succeeded" };
    return storableResult(result, outcome.durationMs);
  } catch (error) {
    if (error instanceof ToolError) return storableResult({ output: error.message, isError: true }, outcome.durationMs);
    log.error({ err: error, tool: tool.name }, "tool finish crashed");
    return storableResult({ output: "The tool failed unexpectedly.", isError: true }, outcome.durationMs);
  }
}
