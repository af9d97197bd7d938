import fs from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { existingPartInside } from "../agents/files.js";
import { agentGit, revertInAgentRepo } from "../agents/git.js";
import { checkAgentHealth } from "../agents/health.js";
import { agentPrograms } from "../db/schema.js";
import { type ToolContext, ToolError, type ToolResult } from "./define.js";

/**
 * What the agent_* self-modification tools share: the running agent's own folder (never another's), paths
 * confined to it, the read-only rule for bundled agents, and the commit that is health-checked and reverted
 * when it breaks the agent (decisions/0030).
 */

export const MAX_SELF_FILE_BYTES = 256 * 1024;

export const selfPath = z
  .string()
  .trim()
  .min(1, "is required")
  .max(1024, "is too long")
  .describe('A path relative to your own folder, e.g. "SOUL.md" or "prompts/system.md.liquid".');

const READ_ONLY =
  "This agent is bundled with Cybros and its files are read-only. To change it, create a copy " +
  "(Agents → New agent, from this profile) and talk to the copy.";

/** The agent's folder, real path; `change` refuses bundled agents and folders that are not a git repository. */
export async function selfFolder(context: ToolContext, options: { change: boolean }): Promise<string> {
  const [row] = await context.services.db
    .select({ bundled: agentPrograms.bundled })
    .from(agentPrograms)
    .where(eq(agentPrograms.id, context.agent.id));
  if (options.change && (row?.bundled ?? true)) throw new ToolError(READ_ONLY);
  const root = await fs.realpath(context.agent.localPath).catch(() => {
    throw new ToolError("Your folder is missing on the server.");
  });
  if (options.change && !(await fs.stat(path.join(root, ".git")).catch(() => null))) {
    throw new ToolError("Your folder is not a git repository, so changes cannot be committed or reverted.");
  }
  return root;
}

/**
 * The absolute file for a relative path inside `root`: no absolute paths, no "..", nothing under .git, and no
 * symbolic link that leads outside (for a write, the link itself is refused: it would write elsewhere).
 */
export async function resolveSelfPath(root: string, relative: string, options: { write: boolean }): Promise<string> {
  const segments = relative.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (path.isAbsolute(relative) || /^[a-zA-Z]:/.test(relative)) {
    throw new ToolError(`${relative}: use a path relative to your folder, not an absolute one.`);
  }
  if (segments.includes("..")) throw new ToolError(`${relative}: ".." is not allowed; stay inside your folder.`);
  if (segments.some((s) => s.toLowerCase() === ".git")) {
    throw new ToolError(`${relative}: the .git folder is off limits; use agent_commit, agent_log and agent_revert.`);
  }
  if (!segments.length) throw new ToolError("path: name a file inside your folder.");
  const full = path.join(root, ...segments);
  const stat = await fs.lstat(full).catch(() => null);
  if (options.write && stat?.isSymbolicLink())
    throw new ToolError(`${relative}: is a symbolic link; it cannot be written.`);
  if (!(await existingPartInside(root, full))) throw new ToolError(`${relative}: leads outside your folder.`);
  return full;
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 7);
}

/** Whether the work tree has uncommitted changes, as `git status --porcelain` lines. */
export async function uncommitted(root: string): Promise<string[]> {
  const status = await agentGit(root).raw(["status", "--porcelain", "--untracked-files=all"]);
  return status.split("\n").filter(Boolean);
}

/**
 * Runs the health check on what `commit` just made; when it fails, undoes that commit with a new revert commit
 * and answers an error result that says what failed and that the change was reverted.
 */
export async function checkOrRevert(
  context: ToolContext,
  root: string,
  commit: string,
  done: { summary: string; output: string },
): Promise<ToolResult> {
  // Imported here: the registry imports these tools, so a top-level import would be a cycle.
  const { availableToolNames } = await import("./registry.js");
  const health = await checkAgentHealth(
    context.services,
    context.account,
    { localPath: context.agent.localPath },
    availableToolNames(),
    context.signal,
  );
  if (health.ok) {
    return {
      summary: done.summary,
      output: `${done.output}\nHealth check passed (a test turn with ${health.model} answered).`,
      metadata: { commit, health: "passed" },
    };
  }
  const revert = await revertInAgentRepo(root, commit, `The health check failed (${health.step}): ${health.failure}`);
  context.log.info({ agentProgramId: context.agent.id, commit, revert, step: health.step }, "agent change reverted");
  return {
    summary: `Reverted ${shortCommit(commit)}: health check failed`,
    output:
      `${done.output}\nThe health check then failed (${health.step}): ${health.failure}\n` +
      `The change was reverted automatically by commit ${shortCommit(revert)}; your files are as they were before it.`,
    metadata: { commit, health: "failed", step: health.step, failure: health.failure, revertedBy: revert },
    isError: true,
  };
}
