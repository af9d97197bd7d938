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

/** Who made a change in an agent's repository, as its commits record it (the author). */
export const CHANGE_AUTHORS = {
  person: { name: "Person", email: "person@cybros.local" },
  agent: { name: "Agent", email: "agent@cybros.local" },
  revert: { name: "Revert", email: "revert@cybros.local" },
} as const;
export type ChangeAuthor = keyof typeof CHANGE_AUTHORS;

const GIT_TIMEOUT_MS = 30_000;

/** simple-git on an agent's own folder; signing never runs for the server's commits (they pass --no-verify too). */
export function agentGit(agent: { localPath: string }) {
  return simpleGit({
    baseDir: agent.localPath,
    timeout: { block: GIT_TIMEOUT_MS },
    config: ["commit.gpgsign=false"],
  });
}

/**
 * Commits the given paths (or every change, `all`) of an agent's repository as `author`; answers the new commit,
 * or null when there was nothing to commit.
 */
export async function commitAgentChange(
  agent: { localPath: string },
  change: { paths?: string[]; all?: boolean; message: string; author: ChangeAuthor },
): Promise<string | null> {
  const git = agentGit(agent);
  await git.add(change.all || !change.paths ? ["--all", "."] : ["--all", "--", ...change.paths]);
  const staged = (await git.raw(["diff", "--cached", "--name-only"])).trim();
  if (!staged) return null;
  const who = CHANGE_AUTHORS[change.author];
  await git.commit(change.message, undefined, {
    "--no-verify": null,
    "--author": `${who.name} <${who.email}>`,
  });
  return (await git.revparse(["HEAD"])).trim();
}

/** Undoes `commit` with a new commit authored "revert"; answers the new commit. The work tree must be clean. */
export async function revertAgentCommit(agent: { localPath: string }, commit: string, why: string): Promise<string> {
  const git = agentGit(agent);
  const who = CHANGE_AUTHORS.revert;
  const subject = (await git.raw(["log", "-1", "--format=%s", commit])).trim();
  try {
    await git.raw(["revert", "--no-edit", "--no-commit", commit]);
  } catch (error) {
    await git.raw(["revert", "--abort"]).catch(() => {});
    throw error;
  }
  await git.commit(`Revert "${subject}"\n\n${why}\nThis reverts commit ${commit}.`, undefined, {
    "--no-verify": null,
    "--allow-empty": null,
    "--author": `${who.name} <${who.email}>`,
  });
  return (await git.revparse(["HEAD"])).trim();
}
