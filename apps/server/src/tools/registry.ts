import type { Tool } from "./define.js";

/** Every built-in tool by name. An agent is offered the ones its agent.yml allows that exist here. */
const builtIn: Tool[] = [];

const byName = new Map(builtIn.map((tool) => [tool.name, tool]));

export function toolsFor(allow: readonly string[]): Tool[] {
  return allow.map((name) => byName.get(name)).filter((tool): tool is Tool => Boolean(tool));
}

export function availableToolNames(): string[] {
  return [...byName.keys()].sort();
}
