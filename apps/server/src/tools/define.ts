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

export interface Tool<P extends z.ZodType = z.ZodType> {
  name: string;
  /** What the call does, for people ("Searched the web for “cats”"); from the arguments, so shown from the start. */
  title(args: z.infer<P>): string;
  description: string;
  parameters: P;
  /**
   * Running it twice has the effect of running it once (a read, a search). A call cut short by a server restart is
   * run again only then; otherwise the run stops there as interrupted, for a person to retry.
   */
  idempotent?: boolean;
  execute(args: z.infer<P>, context: ToolContext): Promise<ToolResult>;
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
    execute(args: z.infer<P>, context: ToolContext): Promise<ToolResult>;
  },
): Tool<P> {
  return { name, ...spec };
}

/** JSON Schema for the model; stable key order so the tools section of the prompt never changes needlessly. */
export function toolJsonSchema(tool: Tool): Record<string, unknown> {
  return z.toJSONSchema(tool.parameters, { target: "draft-7" }) as Record<string, unknown>;
}

export const MAX_TOOL_OUTPUT_CHARS = 50_000;
const MAX_SUMMARY_CHARS = 160;

/** The first line of `text`, cut to fit a card's one-line summary. */
export function oneLine(text: string): string {
  const line = text.trim().split("\n", 1)[0]!.trim();
  return line.length > MAX_SUMMARY_CHARS ? `${line.slice(0, MAX_SUMMARY_CHARS - 1)}…` : line;
}

/**
 * Runs a tool the way every call must run: arguments validated against its schema, errors turned into results
 * the model can read, output truncated and made storable (no NUL, no lone surrogate: a page or file may hold
 * either), time measured. The one wrapper all tools go through.
 */
export async function runTool(
  tool: Tool,
  rawArgs: unknown,
  context: ToolContext,
): Promise<ToolResult & { durationMs: number }> {
  const started = performance.now();
  const finish = (result: ToolResult) => {
    const output = toStorableText(result.output);
    return {
      ...result,
      ...(result.summary !== undefined ? { summary: toStorableText(result.summary) } : {}),
      output:
        output.length > MAX_TOOL_OUTPUT_CHARS
          ? `${output.slice(0, MAX_TOOL_OUTPUT_CHARS)}\n…[truncated ${output.length - MAX_TOOL_OUTPUT_CHARS} characters]`
          : output,
      ...(result.metadata ? { metadata: toStorableJson(result.metadata) } : {}),
      durationMs: Math.round(performance.now() - started),
    };
  };
  const parsed = tool.parameters.safeParse(toStorableJson(rawArgs));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
    return finish({
      output: `Invalid arguments: ${problems}`,
      isError: true,
    });
  }
  try {
    return finish(await tool.execute(parsed.data, context));
  } catch (error) {
    if (error instanceof ToolError) return finish({ output: error.message, isError: true });
    context.log.error({ err: error, tool: tool.name }, "tool crashed");
    return finish({ output: "The tool failed unexpectedly.", isError: true });
  }
}
