import { hookNames } from "@cybros/protocol";
import type { Account } from "../current.js";
import { completeOnce } from "../llm/index.js";
import { resolveModel } from "../providers/resolve.js";
import type { Services } from "../services.js";
import { AgentProgramError } from "./errors.js";
import { loadAgentProgram, renderSystemPrompt } from "./loader.js";
import { scriptCommand } from "./scripts.js";

const TEST_TURN_TIMEOUT_MS = 30_000;
export const TEST_TURN_PROMPT = "Health check after a change to your files: reply with OK.";

export type HealthCheck = { ok: true; model: string } | { ok: false; step: HealthStep; failure: string };
export type HealthStep = "load" | "prompt" | "tools" | "hooks" | "test_turn";

/**
 * Whether an agent still works after a change to its files: agent.yml validates, the system prompt renders,
 * every allowed tool exists, every custom tool listed parses and has an executable (and no built-in's name), every
 * declared hook is there to run, and a test turn against the agent's model (the account's default when it prefers
 * none) answers. Never throws for a broken agent: the failure says which step failed and why, in words for the
 * model that made the change.
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
  const [problem] = definition.customToolProblems;
  if (problem) return { ok: false, step: "tools", failure: problem };
  const clash = definition.customTools.find((tool) => knownTools.includes(tool.name));
  if (clash) {
    return {
      ok: false,
      step: "tools",
      failure: `${clash.file}: ${clash.name} is the name of a built-in tool; name it something else`,
    };
  }
  for (const hook of hookNames) {
    const file = definition.manifest.hooks?.[hook];
    if (!file) continue;
    const command = await scriptCommand(definition.realPath, file);
    if ("problem" in command)
      return { ok: false, step: "hooks", failure: `agent.yml: hooks.${hook}: ${command.problem}` };
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
