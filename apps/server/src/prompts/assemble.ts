import { createHash } from "node:crypto";
import { type AgentDefinition, renderSystemPrompt } from "../agents/loader.js";
import type { PromptVariables } from "../agents/prompt.js";
import { formatSkillsIndex } from "../agents/skills.js";
import type { PromptMessage } from "../conversations/context.js";
import { type Tool, toolJsonSchema } from "../tools/define.js";

/** Rough token estimate (≈4 characters a token), the same one the mock LLM uses. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface SectionRecord {
  name: string;
  hash: string;
  tokens: number;
  /** Stable sections form the cacheable prefix; volatile ones come after them. */
  stable: boolean;
}

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface AssembledPrompt {
  system: string;
  messages: PromptMessage[];
  tools: ToolSpec[];
  sections: SectionRecord[];
}

/** A tool's wire spec, derived once per tool object: converting zod to JSON Schema costs about a millisecond a tool. */
const specs = new WeakMap<Tool, ToolSpec>();

function specOf(tool: Tool): ToolSpec {
  let spec = specs.get(tool);
  if (!spec) {
    spec = { name: tool.name, description: tool.description, parameters: toolJsonSchema(tool) };
    specs.set(tool, spec);
  }
  return spec;
}

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

interface Section {
  name: string;
  text: string;
  stable: boolean;
}

/**
 * PromptConfig → ordered sections: the stable ones first (AGENT.md, SOUL.md, USER.md, the rendered template,
 * tool schemas sorted by name, the skills index), volatile ones last. Nothing here varies by time or id unless the
 * agent's own template asks for it, so consecutive turns share the whole system prefix.
 */
export function assemblePrompt(input: {
  definition: AgentDefinition;
  variables: PromptVariables;
  tools: Tool[];
  history: PromptMessage[];
  volatile?: { name: string; text: string }[];
}): AssembledPrompt {
  const { definition } = input;
  const tools = [...input.tools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(specOf);
  const sections: Section[] = [
    { name: "agent", text: definition.instructions.agent ?? "", stable: true },
    { name: "soul", text: definition.instructions.soul ?? "", stable: true },
    { name: "user", text: definition.instructions.user ?? "", stable: true },
    { name: "template", text: renderSystemPrompt(definition, input.variables), stable: true },
    { name: "tools", text: JSON.stringify(tools), stable: true },
    {
      name: "skills",
      text: definition.skills.length ? formatSkillsIndex(definition.skills) : "",
      stable: true,
    },
    ...(input.volatile ?? []).map((v) => ({ ...v, stable: false })),
  ];
  // The tools section travels as the request's `tools` array, not as system text.
  const textOf = (stable: boolean) =>
    sections
      .filter((s) => s.stable === stable && s.name !== "tools" && s.text.trim())
      .map((s) => s.text.trim())
      .join("\n\n");
  const system = textOf(true);
  const volatile = textOf(false);
  // Volatile text goes after the history: it costs only its own tokens, never the cached prefix.
  return {
    system,
    messages: [
      { role: "system", content: system },
      ...input.history,
      ...(volatile ? [{ role: "system" as const, content: volatile }] : []),
    ],
    tools,
    sections: sections.map((s) => ({
      name: s.name,
      hash: hashOf(s.text),
      tokens: estimateTokens(s.text),
      stable: s.stable,
    })),
  };
}
