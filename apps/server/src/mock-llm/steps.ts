import { z } from "zod";

/**
 * One scripted behaviour of the mock: what to answer (`reply`) and how to stream it (the shaping keys).
 * The same vocabulary is written as a `/mock` directive line or as a JSON step of a scenario, so keys are
 * snake_case in both. docs/mock-llm.md documents every key.
 */
export const replyKinds = [
  "echo",
  "text",
  "markdown",
  "long",
  "tool_calls",
  "error",
  "hang",
  "digest",
  "system",
  "stamps",
  "empty",
  "scenario",
] as const;

const toolCallSpec = z.object({
  name: z.string().min(1),
  /** Sent verbatim when a string (so malformed JSON can be scripted); objects are JSON-encoded. */
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).default("{}"),
  id: z.string().min(1).optional(),
});
export type ToolCallSpec = z.infer<typeof toolCallSpec>;

const count = z.coerce.number().int().min(0);
const flag = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

export const mockStep = z.strictObject({
  reply: z.enum(replyKinds).default("echo"),
  // what to say
  text: z.string().optional(),
  /** `text` as exact content chunks (scenarios), to script splits a client must handle, e.g. in a surrogate pair. */
  chunks: z.array(z.string()).min(1).optional(),
  kb: z.coerce.number().min(0).max(10_240).optional(),
  count: count.max(100_000).optional(),
  calls: z.array(toolCallSpec).optional(),
  name: z.string().min(1).optional(),
  args: z.string().optional(),
  rounds: count.optional(),
  interleave: flag.optional(),
  follow_up: z.string().optional(),
  // errors
  status: z.coerce.number().int().min(400).max(599).optional(),
  message: z.string().optional(),
  type: z.string().optional(),
  code: z.string().optional(),
  retry_after: count.optional(),
  times: count.optional(),
  key: z.string().optional(),
  // how to stream it
  delay: count.max(600_000).optional(),
  ttft: count.max(600_000).optional(),
  start_at: z.coerce.number().int().min(0).optional(),
  chunk_size: z.coerce.number().int().min(1).max(1_000_000).optional(),
  disconnect_after: count.optional(),
  stall_after: count.optional(),
  malformed_at: z.coerce.number().int().min(1).optional(),
});
export type MockStep = z.infer<typeof mockStep>;

export const scenarioInput = z.object({
  name: z.string().min(1).max(200),
  steps: z.array(mockStep).min(1),
});
export type ScenarioInput = z.input<typeof scenarioInput>;

export class DirectiveError extends Error {}

/** How long to wait before the first chunk: `ttft`, or until `start_at` (epoch ms) if that is later. */
export function firstChunkPause(step: MockStep, now = Date.now()): number {
  return Math.max(step.ttft ?? 0, step.start_at === undefined ? 0 : Math.min(step.start_at - now, 600_000));
}

export const DIRECTIVE_PREFIX = "/mock";

/** A directive is the first line of the last user message when it starts with `/mock`. */
export function splitDirective(text: string): { line: string | null; body: string } {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith(DIRECTIVE_PREFIX)) return { line: null, body: text };
  const after = trimmed.charAt(DIRECTIVE_PREFIX.length);
  if (after !== "" && !/\s/.test(after)) return { line: null, body: text };
  const newline = trimmed.indexOf("\n");
  if (newline === -1) return { line: trimmed, body: "" };
  return { line: trimmed.slice(0, newline).trimEnd(), body: trimmed.slice(newline + 1) };
}

/** `key=value`, `key="quoted value"` (JSON string escapes) or a bare word (the reply kind, first only). */
function tokenize(source: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < source.length) {
    while (i < source.length && /\s/.test(source[i]!)) i++;
    if (i >= source.length) break;
    const start = i;
    while (i < source.length && !/\s/.test(source[i]!)) {
      if (source[i] === '"') {
        i++;
        while (i < source.length && source[i] !== '"') i += source[i] === "\\" ? 2 : 1;
        if (i >= source.length) throw new DirectiveError(`unterminated quote in: ${source.slice(start)}`);
      }
      i++;
    }
    tokens.push(source.slice(start, i));
  }
  return tokens;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    throw new DirectiveError(`bad quoted value: ${value}`);
  }
}

/** Parses `/mock <reply> key=value ...` into a step; unknown kinds or keys are errors, never ignored. */
export function parseDirective(line: string, body: string): MockStep {
  const tokens = tokenize(line.slice(DIRECTIVE_PREFIX.length));
  const raw: Record<string, unknown> = {};
  tokens.forEach((token, index) => {
    const eq = token.indexOf("=");
    if (eq === -1) {
      if (index !== 0) throw new DirectiveError(`expected key=value, got "${token}"`);
      raw.reply = token;
      return;
    }
    raw[token.slice(0, eq)] = unquote(token.slice(eq + 1));
  });
  const parsed = mockStep.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "directive";
    const message = issue.code === "unrecognized_keys" ? `unknown key ${issue.keys.join(", ")}` : issue.message;
    throw new DirectiveError(`${where}: ${message}`);
  }
  const step = parsed.data;
  if (step.reply === "text" && step.text === undefined) step.text = body;
  if (step.reply === "tool_calls" && !step.calls) step.calls = toolCallsFrom(step, body);
  return step;
}

/** Tool calls from the body, one per line: `name {json arguments}`; or from `name=` / `args=` keys. */
function toolCallsFrom(step: MockStep, body: string): ToolCallSpec[] | undefined {
  const lines = body
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length) {
    return lines.map((line) => {
      const space = line.search(/\s/);
      if (space === -1) return { name: line, arguments: "{}" };
      return { name: line.slice(0, space), arguments: line.slice(space + 1).trim() };
    });
  }
  if (step.name) return [{ name: step.name, arguments: step.args ?? "{}" }];
  return undefined;
}
