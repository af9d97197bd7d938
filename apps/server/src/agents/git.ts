import fs from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";
import type { ReadSet } from "./files.js";

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

async function readSmall(file: string, signal?: AbortSignal, reads?: ReadSet): Promise<string | null> {
  try {
    const [text, stat] = await Promise.all([
      fs.readFile(file, { encoding: "utf8", signal }),
      reads ? fs.stat(file) : null,
    ]);
    if (stat) reads?.note("stat", file, stat);
    return text.trim();
  } catch (error) {
    if (signal?.aborted) throw error;
    reads?.note("stat", file, null);
    return null;
  }
}

/**
 * The commit HEAD points at when `folder` is itself the root of a git work tree, else null (an enclosing
 * repository does not count: its HEAD says nothing about this agent). Reads the ref files directly, which is
 * far cheaper than spawning git on every turn, and asks git only for layouts it cannot read (reftable).
 */
export async function readHeadCommit(folder: string, signal?: AbortSignal, reads?: ReadSet): Promise<string | null> {
  const dotGit = path.join(folder, ".git");
  let gitDir: string;
  try {
    const stat = await fs.stat(dotGit).catch((error) => {
      reads?.note("stat", dotGit, null);
      throw error;
    });
    reads?.note("stat", dotGit, stat);
    if (stat.isDirectory()) {
      gitDir = dotGit;
    } else {
      // A linked worktree or submodule: ".git" is a file saying "gitdir: <path>".
      const pointer = /^gitdir:\s*(.+)$/m.exec((await readSmall(dotGit, signal, reads)) ?? "");
      if (!pointer) return null;
      gitDir = path.resolve(folder, pointer[1]!.trim());
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    return null;
  }
  const head = await readSmall(path.join(gitDir, "HEAD"), signal, reads);
  if (!head) return null;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref:\s*(refs\/[^\s]+)$/.exec(head)?.[1];
  if (!ref || ref.split("/").includes("..")) return null;
  const commonDir = path.resolve(gitDir, (await readSmall(path.join(gitDir, "commondir"), signal, reads)) ?? ".");
  const loose = await readSmall(path.join(commonDir, ref), signal, reads);
  if (loose && OBJECT_ID.test(loose)) return loose;
  const packed = await readSmall(path.join(commonDir, "packed-refs"), signal, reads);
  for (const line of packed?.split("\n") ?? []) {
    const [id, name] = line.split(" ");
    if (name === ref && id && OBJECT_ID.test(id)) return id;
  }
  // An unborn branch has no ref anywhere; only a reftable repository needs git itself to answer.
  const reftable = path.join(commonDir, "reftable");
  const reftableStat = await fs.stat(reftable).catch(() => null);
  reads?.note("stat", reftable, reftableStat);
  if (!reftableStat) return null;
  // What git reads there is not tracked: a reftable repository's commit is not vouched for by stats.
  if (reads) reads.racy = true;
  try {
    const id = (await simpleGit({ baseDir: folder, abort: signal }).revparse(["--verify", "-q", "HEAD"])).trim();
    return OBJECT_ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Who made a change to an agent's files: a person in the UI, the agent through its own tools, or a revert. */
export type AgentChangeAuthor = "person" | "agent" | "revert";
export const AGENT_CHANGE_AUTHORS: readonly AgentChangeAuthor[] = ["person", "agent", "revert"];

/** The trailer that records the author kind in every commit Cybros makes; `git log` reads it back. */
export const AUTHOR_TRAILER = "Cybros-Author";

const AUTHOR_NAMES: Record<AgentChangeAuthor, string> = {
  person: "Cybros (person)",
  agent: "Cybros (agent)",
  revert: "Cybros (revert)",
};

/**
 * Git config every Cybros git command runs with: an identity (machines and cloned repositories may have none),
 * and no signing or hooks of the person's own, which must not stop the server from committing its files.
 */
export const GIT_CONFIG = [
  "user.name=Cybros",
  "user.email=cybros@localhost",
  "commit.gpgsign=false",
  "core.quotepath=off",
];

export function agentGit(folder: string) {
  return simpleGit({ baseDir: folder, config: GIT_CONFIG, timeout: { block: 30_000 } });
}

const repoQueues = new Map<string, Promise<unknown>>();

/** Runs `work` after every earlier git operation on the same folder, so two commits never race for the index. */
export function inAgentRepo<T>(folder: string, work: () => Promise<T>): Promise<T> {
  const previous = repoQueues.get(folder) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  repoQueues.set(folder, next);
  void next
    .catch(() => undefined)
    .finally(() => {
      if (repoQueues.get(folder) === next) repoQueues.delete(folder);
    });
  return next;
}

export interface AgentChange {
  /** Paths relative to the agent folder to commit (added, changed or deleted); "all" commits every change. */
  paths: string[] | "all";
  message: string;
  author: AgentChangeAuthor;
}

/**
 * Commits a change to an agent's folder, recording who made it (`Cybros-Author: person|agent|revert` and the
 * author name). Answers the new commit's id, or null when there was nothing to commit. Callers validate the
 * paths first (agents/files.ts resolveInside); this only stages and commits.
 */
export async function commitAgentChange(agent: { localPath: string }, change: AgentChange): Promise<string | null> {
  return inAgentRepo(agent.localPath, () => commitChangeNow(agent.localPath, change));
}

/** commitAgentChange for a caller already inside inAgentRepo (e.g. a revert that staged its own changes). */
export async function commitChangeNow(folder: string, change: AgentChange): Promise<string | null> {
  const git = agentGit(folder);
  const pathspec = change.paths === "all" ? ["."] : change.paths;
  if (pathspec.length === 0) return null;
  await git.raw(["add", "--all", "--", ...pathspec]);
  const staged = await git.raw(["diff", "--cached", "--name-only", "--", ...pathspec]);
  if (!staged.trim()) return null;
  const message = `${change.message.trim() || "Edit"}\n\n${AUTHOR_TRAILER}: ${change.author}\n`;
  await git.raw([
    "commit",
    "--no-verify",
    "--quiet",
    `--author=${AUTHOR_NAMES[change.author]} <cybros@localhost>`,
    "-m",
    message,
    "--",
    ...pathspec,
  ]);
  return (await git.revparse(["HEAD"])).trim();
}

/**
 * Undoes `sha` with a new commit authored "revert", for a caller already inside inAgentRepo; the work tree must be
 * clean. A conflict leaves the folder as it was and throws. Answers the new commit.
 */
export async function revertCommitNow(folder: string, sha: string, why?: string): Promise<string> {
  const git = agentGit(folder);
  const subject = (await git.raw(["log", "-1", "--format=%s", sha])).trim();
  try {
    await git.raw(["revert", "--no-commit", "--no-edit", sha]);
  } catch (error) {
    await git.raw(["revert", "--abort"]).catch(() => git.raw(["reset", "--hard", "--quiet", "HEAD"]));
    throw error;
  }
  const message = `Revert "${subject}"${why ? `\n\n${why}` : ""}`;
  const commit = await commitChangeNow(folder, { paths: "all", message, author: "revert" });
  return commit ?? (await git.revparse(["HEAD"])).trim();
}

/** revertCommitNow in the folder's queue of git operations. */
export function revertInAgentRepo(folder: string, sha: string, why?: string): Promise<string> {
  return inAgentRepo(folder, () => revertCommitNow(folder, sha, why));
}
