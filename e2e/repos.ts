import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A bare repository holding `files` in one commit, made on this machine (the server's), as a file:// URL. */
export function bareRepository(files: (work: string) => void): { url: string; remove: () => void } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-e2e-repo-"));
  const work = path.join(scratch, "work");
  fs.mkdirSync(work);
  files(work);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: work });
  git("init", "-q");
  git("add", "-A");
  git("-c", "user.name=T", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-qm", "init");
  execFileSync("git", ["clone", "-q", "--bare", work, path.join(scratch, "agent.git")]);
  return { url: `file://${path.join(scratch, "agent.git")}`, remove: () => fs.rmSync(scratch, { recursive: true }) };
}
