import { agentCommitTool } from "./agent-commit.js";
import { agentDiffTool } from "./agent-diff.js";
import { agentEditSelfTool } from "./agent-edit-self.js";
import { agentLogTool } from "./agent-log.js";
import { agentReadSelfTool } from "./agent-read-self.js";
import { agentRevertTool } from "./agent-revert.js";
import { agentWriteSelfTool } from "./agent-write-self.js";
import { bashTool } from "./coding/bash.js";
import { editFileTool } from "./coding/edit-file.js";
import { gitCommitTool } from "./coding/git-commit.js";
import { gitDiffTool } from "./coding/git-diff.js";
import { gitLogTool } from "./coding/git-log.js";
import { gitStatusTool } from "./coding/git-status.js";
import { globTool } from "./coding/glob.js";
import { grepTool } from "./coding/grep.js";
import { readFileTool } from "./coding/read-file.js";
import { writeFileTool } from "./coding/write-file.js";
import type { Tool } from "./define.js";
import { listAppsTool } from "./mac/list-apps.js";
import { openUrlTool } from "./mac/open-url.js";
import { runAppleScriptTool } from "./mac/run-applescript.js";
import { runShortcutTool } from "./mac/run-shortcut.js";
import { takeScreenshotTool } from "./mac/take-screenshot.js";
import { memoryForgetTool } from "./memory-forget.js";
import { memorySearchTool } from "./memory-search.js";
import { memoryStoreTool } from "./memory-store.js";
import { skillsListTool } from "./skills-list.js";
import { skillsLoadTool } from "./skills-load.js";
import { skillsReadFileTool } from "./skills-read-file.js";
import { webFetchTool } from "./web-fetch.js";
import { webSearchTool } from "./web-search.js";
import { workspaceSetTool } from "./workspace-set.js";

/** Every built-in tool by name. An agent is offered the ones its agent.yml allows that exist here. */
const builtIn: Tool[] = [
  memorySearchTool,
  memoryStoreTool,
  memoryForgetTool,
  skillsListTool,
  skillsLoadTool,
  skillsReadFileTool,
  webSearchTool,
  webFetchTool,
  agentReadSelfTool,
  agentWriteSelfTool,
  agentEditSelfTool,
  agentDiffTool,
  agentCommitTool,
  agentRevertTool,
  agentLogTool,
  workspaceSetTool,
  readFileTool,
  writeFileTool,
  editFileTool,
  globTool,
  grepTool,
  bashTool,
  gitStatusTool,
  gitDiffTool,
  gitCommitTool,
  gitLogTool,
  // macOS, run on the account's Mac (tools/mac/).
  runAppleScriptTool,
  openUrlTool,
  takeScreenshotTool,
  runShortcutTool,
  listAppsTool,
] as Tool[];

const byName = new Map(builtIn.map((tool) => [tool.name, tool]));

export function toolsFor(allow: readonly string[]): Tool[] {
  return allow.map((name) => byName.get(name)).filter((tool): tool is Tool => Boolean(tool));
}

/**
 * The readable title of a call for people, from the tool's own `title`; a tool that is gone or arguments that do
 * not fit fall back to the name ("web_search" → "Web search").
 */
export function toolTitle(name: string, args: unknown): string {
  const tool = byName.get(name);
  const parsed = tool?.parameters.safeParse(args);
  if (tool && parsed?.success) {
    try {
      return tool.title(parsed.data);
    } catch {
      // A title never fails a transcript: fall through to the name.
    }
  }
  const words = name.replace(/[_-]+/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : "Tool";
}

export function availableToolNames(): string[] {
  return [...byName.keys()].sort();
}
