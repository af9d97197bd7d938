import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import type { Account } from "../current.js";
import { completeOnce } from "../llm/index.js";
import { resolveModel } from "../providers/resolve.js";
import type { Services } from "../services.js";
import { AgentProgramError } from "./errors.js";
import { loadAgentProgram, renderSystemPrompt } from "./loader.js";

const TEST_TURN_TIMEOUT_MS = 30_000;
export const TEST_TURN_PROMPT = "Health check after a change to your files: reply with OK.";

export type HealthCheck = { ok: true; model: string } | { ok: false; step: HealthStep; failure: string };
export type HealthStep = "load" | "prompt" | "tools" | "hooks" | "test_turn";

/**
 * Whether an agent still works after a change to its files: agent.yml validates, the system prompt renders,
 * every allowed tool exists and every declared custom tool and hook parses, and a test turn against the agent's
 * model (the account's default when it prefers none) answers. Never throws for a broken agent: the failure says
 * which step failed and why, in words for the model that made the change.
 */
export async function checkAgentHealth(
  services: Services,
  account: Account,
  agent: { localPath: string },
  knownTools: readonly string[],
  signal?: AbortSignal,
): Promise<HealthCheck> {
  let definition: Awaited<ReturnType<typeof loadAgentProgram>>;
  try {
    definition = await loadAgentProgram(agent.localPath, { signal });
  } catch (error) {
    return { ok: false, step: "load", failure: describe(error) };
  }
  let system: string;
  try {
    system = renderSystemPrompt(definition);
  } catch (error) {
    return { ok: false, step: "prompt", failure: describe(error) };
  }
  const unknown = definition.manifest.tools.allow.filter((name) => !knownTools.includes(name));
  if (unknown.length) {
    return { ok: false, step: "tools", failure: `agent.yml: tools.allow: no such tool: ${unknown.join(", ")}` };
  }
  for (const name of definition.manifest.tools.custom) {
    const problem = await customToolProblem(definition.realPath, name);
    if (problem) return { ok: false, step: "tools", failure: problem };
  }
  for (const [hook, file] of Object.entries(definition.manifest.hooks ?? {})) {
    if (!file) continue;
    const problem = await hookProblem(definition.realPath, file);
    if (problem) return { ok: false, step: "hooks", failure: `agent.yml: hooks.${hook}: ${problem}` };
  }
  try {
    const choice = await resolveModel(services, account, definition.manifest.model.prefer);
    await completeOnce({
      provider: choice.provider,
      model: choice.model,
      system,
      prompt: TEST_TURN_PROMPT,
      maxOutputTokens: 16,
      timeoutMs: TEST_TURN_TIMEOUT_MS,
      signal,
    });
    return { ok: true, model: choice.model };
  } catch (error) {
    return { ok: false, step: "test_turn", failure: `the test turn failed: ${describe(error)}` };
  }
}

function describe(error: unknown): string {
  if (error instanceof AgentProgramError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

async function customToolProblem(root: string, name: string): Promise<string | null> {
  const file = `tools/${name}.yml`;
  let text: string;
  try {
    text = await fs.readFile(path.join(root, file), "utf8");
  } catch {
    return `${file}: is missing (declared in agent.yml tools.custom)`;
  }
  try {
    const spec = YAML.parse(text) as unknown;
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) return `${file}: must be a mapping`;
    if (typeof (spec as { description?: unknown }).description !== "string") return `${file}: description: is required`;
  } catch (error) {
    return `${file}: ${(error as Error).message.split("\n")[0]}`;
  }
  return null;
}

async function hookProblem(root: string, file: string): Promise<string | null> {
  const full = path.resolve(root, file);
  if (!full.startsWith(root + path.sep)) return "must be a path inside the agent's folder";
  const stat = await fs.stat(full).catch(() => null);
  return stat?.isFile() ? null : `${file} is missing`;
}
