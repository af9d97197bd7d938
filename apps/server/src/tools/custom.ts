import type { CustomToolSpec } from "../agents/custom-tools.js";
import type { AgentDefinition } from "../agents/loader.js";
import { scriptRequest } from "../agents/scripts.js";
import type { Logger } from "../log.js";
import { agentFolderFacility } from "../workspaces/index.js";
import { type DirectiveOutcome, oneLine, type Tool, ToolError, type ToolResult } from "./define.js";
import { availableToolNames } from "./registry.js";

/**
 * An agent program's own tools (agents/custom-tools.ts) as tools the run offers: arguments checked against the
 * tool's JSON Schema by the wrapper every tool goes through (so bad ones never reach the script), then the
 * executable runs as a directive in the agent's folder on the local territory, arguments on stdin and in
 * CYBROS_TOOL_INPUT, its answer in the file CYBROS_TOOL_OUTPUT names or on stdout.
 */
export function customToolsOf(definition: AgentDefinition, log: Logger): Tool[] {
  const builtIn = new Set(availableToolNames());
  const tools: Tool[] = [];
  for (const spec of definition.customTools) {
    if (builtIn.has(spec.name)) {
      log.warn({ tool: spec.name }, "a custom tool is named like a built-in tool; left out");
      continue;
    }
    tools.push(customTool(spec));
  }
  return tools;
}

// One tool object per definition: the prompt's tool specs are cached per object, so the prefix stays the same.
const made = new WeakMap<CustomToolSpec, Tool>();

export function customTool(spec: CustomToolSpec): Tool {
  let tool = made.get(spec);
  if (tool) return tool;
  tool = {
    name: spec.name,
    title: () => spec.name.replace(/_+/g, " ").replace(/^./, (c) => c.toUpperCase()),
    description: spec.description,
    parameters: spec.schema,
    inputSchema: spec.parameters,
    async execute(args, context) {
      const facility = await agentFolderFacility(context.services, {
        accountId: context.account.id,
        localPath: context.agent.localPath,
      });
      if (!facility) {
        throw new ToolError(
          `${spec.name} runs on this computer's local Nexus, and none is set up. Ask the person to turn it on ` +
            "(System settings → Territories).",
        );
      }
      return {
        directive: {
          facilityId: facility.facilityId,
          request: scriptRequest({
            argv: spec.argv,
            json: JSON.stringify(args),
            inputVariable: "CYBROS_TOOL_INPUT",
            outputVariable: "CYBROS_TOOL_OUTPUT",
            timeoutSeconds: spec.timeoutSeconds,
          }),
        },
      };
    },
    finish: (outcome) => customToolResult(spec, outcome),
  };
  made.set(spec, tool);
  return tool;
}

/**
 * A custom tool's result from how its script ended: JSON it printed is the output as printed, kept structured in
 * `metadata.result` (its `summary` key, when a string, is the card's line); other text is the output as is; a
 * failure is an error result with what the script said on stderr.
 */
export function customToolResult(
  spec: Pick<CustomToolSpec, "name" | "timeoutSeconds">,
  outcome: DirectiveOutcome,
): ToolResult {
  const stderr = outcome.stderr.trim();
  const stdout = outcome.stdout.trim();
  if (outcome.state === "timed_out") {
    return {
      summary: "Timed out",
      output: `${spec.name} did not finish within ${spec.timeoutSeconds} s and was stopped.${stderr ? `\n${stderr}` : ""}`,
      isError: true,
    };
  }
  if (outcome.state === "canceled") {
    return {
      summary: "Stopped",
      output: `${spec.name} was stopped before it finished${outcome.endReason ? ` (${outcome.endReason})` : ""}.`,
      isError: true,
    };
  }
  if (outcome.exitCode === null) {
    return {
      summary: "Could not run",
      output: `${spec.name} could not be started${outcome.endReason ? `: ${outcome.endReason}` : "."}${stderr ? `\n${stderr}` : ""}`,
      isError: true,
    };
  }
  if (outcome.exitCode !== 0) {
    return {
      summary: `Failed (exit code ${outcome.exitCode})`,
      output: `${spec.name} failed with exit code ${outcome.exitCode}.${stderr || stdout ? `\n${stderr || stdout}` : ""}`,
      isError: true,
    };
  }
  const cut = outcome.stdoutTruncated ? "\n…[the output was cut]" : "";
  const result = parseJson(stdout);
  if (result === undefined) return { output: (stdout || "(no output)") + cut };
  const summary =
    result && typeof result === "object" && typeof (result as { summary?: unknown }).summary === "string"
      ? oneLine((result as { summary: string }).summary)
      : undefined;
  return { output: stdout + cut, ...(summary ? { summary } : {}), metadata: { result } };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
