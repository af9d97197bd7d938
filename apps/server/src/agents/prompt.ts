import { Liquid, type Template } from "liquidjs";
import { AgentProgramError } from "./errors.js";

export const PROMPTS_FOLDER = "prompts";
export const SYSTEM_TEMPLATE_NAME = "system.md.liquid";
export const SYSTEM_TEMPLATE = `${PROMPTS_FOLDER}/${SYSTEM_TEMPLATE_NAME}`;

/**
 * What a system prompt template can read. Everything is optional; missing values render as empty text
 * (strictVariables is off). Pass only stable values for a stable prompt: anything that changes per turn
 * (turn.id, a time) changes the prompt prefix and costs the provider's prompt cache.
 */
export interface PromptVariables {
  /** Merged over {name, description} from agent.yml. */
  agent?: Record<string, unknown>;
  user?: Record<string, unknown>;
  conversation?: Record<string, unknown>;
  turn?: Record<string, unknown>;
  persona?: Record<string, unknown> | null;
  facts?: Record<string, unknown>;
  /** Merged over `args` from agent.yml (the AgentProgram row's args go here). */
  args?: Record<string, unknown>;
}

type LiquidFailure = Error & { token?: { getPosition?: () => number[] } };

function lineOf(error: LiquidFailure): number | undefined {
  const fromToken = error.token?.getPosition?.()[0];
  if (fromToken) return fromToken;
  const match = /line:(\d+)/.exec(error.message ?? "");
  return match ? Number(match[1]) : undefined;
}

function templateError(error: unknown, file: string): AgentProgramError {
  const failure = error as LiquidFailure;
  const reason = String(failure.message ?? error)
    .replace(/, (file|line|col):[^,]*/g, "")
    .replace(/^ENOENT: /, "");
  const line = lineOf(failure);
  return new AgentProgramError(line ? `line ${line}: ${reason}` : reason, { file });
}

/**
 * The program's prompts/ folder compiled once: system.md.liquid parsed, the other .liquid files there available
 * to {% render %} and {% include %}. Templates can read nothing else: no file system, no prototypes.
 */
export class PromptTemplates {
  private readonly engine: Liquid;
  private readonly system: Template[];

  constructor(readonly sources: Readonly<Record<string, string>>) {
    this.engine = new Liquid({
      templates: { ...sources },
      strictVariables: false,
      strictFilters: true,
      ownPropertyOnly: true,
      parseLimit: 1_000_000,
      renderLimit: 1_000,
      memoryLimit: 10_000_000,
    });
    const source = sources[SYSTEM_TEMPLATE_NAME] ?? "";
    try {
      this.system = this.engine.parse(source, SYSTEM_TEMPLATE);
    } catch (error) {
      throw templateError(error, SYSTEM_TEMPLATE);
    }
  }

  /** Same sources, same compiled templates: lets the loader reuse this object while nothing changed. */
  sameSources(sources: Readonly<Record<string, string>>): boolean {
    const names = Object.keys(sources);
    return (
      names.length === Object.keys(this.sources).length && names.every((name) => this.sources[name] === sources[name])
    );
  }

  renderSystem(scope: Record<string, unknown>): string {
    try {
      return this.engine.renderSync(this.system, scope).trim();
    } catch (error) {
      throw templateError(error, SYSTEM_TEMPLATE);
    }
  }
}

export function promptScope(
  manifest: { name: string; description: string; args: Record<string, unknown> },
  variables: PromptVariables,
): Record<string, unknown> {
  return {
    agent: { name: manifest.name, description: manifest.description, ...variables.agent },
    user: variables.user ?? {},
    conversation: variables.conversation ?? {},
    turn: variables.turn ?? {},
    persona: variables.persona ?? null,
    facts: variables.facts ?? {},
    args: { ...manifest.args, ...variables.args },
  };
}
