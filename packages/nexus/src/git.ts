import { spawn } from "node:child_process";

/**
 * Git as the Nexus itself runs it (never inside a sandbox): no pager, no optional index lock taken behind a
 * person's back, and none of the repository's own commands (fsmonitor here, external diff and textconv where
 * it diffs), since the repository's config is something a directive could have written.
 */
const GIT_ENV = { GIT_OPTIONAL_LOCKS: "0", GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
const SAFE_CONFIG = ["-c", "core.fsmonitor=false"];
const GIT_TIMEOUT_MS = 10_000;

export interface GitOutput {
  code: number | null;
  stdout: Buffer;
  /** Output stopped at the byte limit. */
  truncated: boolean;
}

/** Runs git in `cwd`, keeping at most `maxBytes` of its output; null when git is not installed. */
export function git(
  cwd: string,
  args: string[],
  options: { maxBytes?: number; signal?: AbortSignal } = {},
): Promise<GitOutput | null> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve) => {
    const child = spawn("git", [...SAFE_CONFIG, ...args], {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      stdio: ["ignore", "pipe", "ignore"],
      signal: options.signal,
      timeout: GIT_TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    child.stdout.on("data", (data: Buffer) => {
      if (truncated) return;
      const room = maxBytes - size;
      if (data.length > room) {
        truncated = true;
        chunks.push(data.subarray(0, room));
        size = maxBytes;
        child.kill("SIGKILL");
        return;
      }
      chunks.push(data);
      size += data.length;
    });
    child.once("error", () => resolve(null));
    child.once("close", (code) => resolve({ code: truncated ? 0 : code, stdout: Buffer.concat(chunks), truncated }));
  });
}

/**
 * Whether `dir` is part of a git work tree and not ignored by it (a scratch folder under a repository's ignored
 * data directory is not "a repo"). `git check-ignore` answers 1 for "tracked or trackable", 0 for ignored.
 */
export async function inRepository(dir: string, signal?: AbortSignal): Promise<boolean> {
  const answer = await git(dir, ["check-ignore", "-q", "."], { signal });
  return answer?.code === 1;
}

/**
 * The facility's uncommitted changes to tracked files (`git diff HEAD`, or against the index before the first
 * commit), at most `maxBytes`; null when the facility is not a repository.
 */
export async function facilityDiff(
  root: string,
  maxBytes: number,
): Promise<{ bytes: Buffer; truncated: boolean } | null> {
  if (!(await inRepository(root))) return null;
  const flags = ["--no-color", "--no-ext-diff", "--no-textconv"];
  let diff = await git(root, ["diff", "HEAD", ...flags, "--", "."], { maxBytes });
  if (diff?.code !== 0) diff = await git(root, ["diff", ...flags, "--", "."], { maxBytes });
  if (diff?.code !== 0) return null;
  return { bytes: diff.stdout, truncated: diff.truncated };
}
