import fs from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

async function readSmall(file: string, signal?: AbortSignal): Promise<string | null> {
  try {
    return (await fs.readFile(file, { encoding: "utf8", signal })).trim();
  } catch (error) {
    if (signal?.aborted) throw error;
    return null;
  }
}

/**
 * The commit HEAD points at when `folder` is itself the root of a git work tree, else null (an enclosing
 * repository does not count: its HEAD says nothing about this agent). Reads the ref files directly, which is
 * far cheaper than spawning git on every turn, and asks git only for layouts it cannot read (reftable).
 */
export async function readHeadCommit(folder: string, signal?: AbortSignal): Promise<string | null> {
  const dotGit = path.join(folder, ".git");
  let gitDir: string;
  try {
    const stat = await fs.stat(dotGit);
    if (stat.isDirectory()) {
      gitDir = dotGit;
    } else {
      // A linked worktree or submodule: ".git" is a file saying "gitdir: <path>".
      const pointer = /^gitdir:\s*(.+)$/m.exec((await readSmall(dotGit, signal)) ?? "");
      if (!pointer) return null;
      gitDir = path.resolve(folder, pointer[1]!.trim());
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    return null;
  }
  const head = await readSmall(path.join(gitDir, "HEAD"), signal);
  if (!head) return null;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref:\s*(refs\/[^\s]+)$/.exec(head)?.[1];
  if (!ref || ref.split("/").includes("..")) return null;
  const commonDir = path.resolve(gitDir, (await readSmall(path.join(gitDir, "commondir"), signal)) ?? ".");
  const loose = await readSmall(path.join(commonDir, ref), signal);
  if (loose && OBJECT_ID.test(loose)) return loose;
  const packed = await readSmall(path.join(commonDir, "packed-refs"), signal);
  for (const line of packed?.split("\n") ?? []) {
    const [id, name] = line.split(" ");
    if (name === ref && id && OBJECT_ID.test(id)) return id;
  }
  // An unborn branch has no ref anywhere; only a reftable repository needs git itself to answer.
  if (!(await fs.stat(path.join(commonDir, "reftable")).catch(() => null))) return null;
  try {
    const id = (await simpleGit({ baseDir: folder, abort: signal }).revparse(["--verify", "-q", "HEAD"])).trim();
    return OBJECT_ID.test(id) ? id : null;
  } catch {
    return null;
  }
}
