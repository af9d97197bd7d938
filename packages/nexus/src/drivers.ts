import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DirectiveSpec, type FinalDirectiveState, MAX_DIFF_BYTES, type OutputStream } from "@cybros/protocol";
import { facilityDiff } from "./git.js";

/** How a run ended, as the driver saw it. */
export interface DriverOutcome {
  status: FinalDirectiveState;
  /** The process's code; 124 after a timeout; 128+N when a signal ended it. */
  exitCode: number | null;
  error?: string;
  /** `git diff` of the facility after the command, when it is a repository; cut at MAX_DIFF_BYTES. */
  diff?: { bytes: Buffer; truncated: boolean };
}

export interface DriverRun {
  /** Output as it comes, coalesced per stream. */
  onOutput: (stream: OutputStream, bytes: Buffer) => void;
  /** Aborted when the server asks to cancel. */
  cancel: AbortSignal;
}

const COALESCE_MS = 50;
const KILL_GRACE_MS = 2_000;
/** Names passed from the Nexus's own environment to every command; the rest only by the spec's allowlist. */
const BASE_ENV = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "LANG"];
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * The directory a spec's cwd names, inside its facility. Resolves symlinks, so a link pointing out of the
 * facility is refused like a `..` would be.
 */
export function facilityCwd(facilityRoot: string, cwd: string): string {
  fs.mkdirSync(facilityRoot, { recursive: true });
  const root = fs.realpathSync(facilityRoot);
  const wanted = path.resolve(root, cwd);
  fs.mkdirSync(wanted, { recursive: true });
  const real = fs.realpathSync(wanted);
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) throw new Error(`cwd ${cwd} leaves the facility`);
  return real;
}

/** The facility's mount point inside a `bwrap` sandbox. */
export const SANDBOX_WORKSPACE = "/workspace";

/**
 * Runs a directive with its driver. `host`: the command runs in its own process group in the facility. `bwrap`:
 * the same inside bubblewrap, with the system read-only, only the facility writable (at /workspace), and no
 * network unless the spec asks for it. A timeout or a cancel sends SIGTERM to the whole group, then SIGKILL after
 * a grace; a timeout reports exit 124. When the facility is a git repository, its diff after the command comes
 * with the outcome.
 */
export async function runDirective(spec: DirectiveSpec, facilityRoot: string, run: DriverRun): Promise<DriverOutcome> {
  if ("operation" in spec.command) {
    return { status: "failed", exitCode: null, error: "an operation is performed by the Nexus, not by a driver" };
  }
  let cwd: string;
  try {
    cwd = facilityCwd(facilityRoot, spec.cwd);
  } catch (error) {
    return { status: "failed", exitCode: null, error: (error as Error).message };
  }
  if (spec.driver === "bwrap" && spec.capabilities.network === "allowlist") {
    return { status: "failed", exitCode: null, error: "the bwrap driver cannot enforce a network allowlist yet" };
  }
  const root = fs.realpathSync(facilityRoot);
  const sandboxCwd = path.posix.join(SANDBOX_WORKSPACE, path.relative(root, cwd).split(path.sep).join("/"));
  const workspace = spec.driver === "bwrap" ? sandboxCwd : cwd;
  const env: Record<string, string> = { NO_COLOR: "1", TERM: "dumb", PAGER: "cat", GIT_PAGER: "cat", CI: "true" };
  for (const name of [...BASE_ENV, ...spec.env_allowlist]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  if (spec.driver === "bwrap") env.HOME = SANDBOX_WORKSPACE;
  Object.assign(env, spec.env, {
    CYBROS_NEXUS: "1",
    CYBROS_DIRECTIVE_ID: spec.directive_id,
    CYBROS_WORKSPACE: workspace,
  });
  const command = "argv" in spec.command ? spec.command.argv : ["/bin/sh", "-c", spec.command.shell];
  const [file, ...args] =
    spec.driver === "bwrap"
      ? ["bwrap", ...sandboxArgs(root, sandboxCwd, spec.capabilities.network !== "none"), "--", ...command]
      : command;
  const child = spawn(file!, args, { cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });

  const pending: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = () => {
    flushTimer = undefined;
    for (const stream of ["stdout", "stderr"] as const) {
      if (pending[stream].length === 0) continue;
      run.onOutput(stream, Buffer.concat(pending[stream]));
      pending[stream] = [];
    }
  };
  // Past the output cap nothing more is kept (the pipes are still drained): a command printing gigabytes costs
  // the cap, not its output. One chunk beyond it is kept so the cut is seen and flagged.
  let collected = 0;
  const collect = (stream: OutputStream) => (data: Buffer) => {
    if (collected > spec.output_cap_bytes) return;
    collected += data.length;
    pending[stream].push(data);
    flushTimer ??= setTimeout(flush, COALESCE_MS);
  };
  child.stdout.on("data", collect("stdout"));
  child.stderr.on("data", collect("stderr"));
  child.stdin.on("error", () => {});
  child.stdin.end(spec.stdin ?? "");

  let stoppedBy: "timeout" | "cancel" | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: "timeout" | "cancel") => {
    if (stoppedBy || child.exitCode !== null) return;
    stoppedBy = why;
    signalGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => stop("timeout"), spec.timeout_seconds * 1000);
  const onCancel = () => stop("cancel");
  run.cancel.addEventListener("abort", onCancel, { once: true });
  if (run.cancel.aborted) onCancel();

  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timeout);
  clearTimeout(killTimer);
  run.cancel.removeEventListener("abort", onCancel);
  clearTimeout(flushTimer);
  flush();
  // Whatever the command left running in its group goes with it.
  signalGroup(child.pid, "SIGKILL");

  if (ended.error) return { status: "failed", exitCode: null, error: ended.error.message };
  const diff = await facilityDiff(root, MAX_DIFF_BYTES);
  const withDiff = diff ? { diff } : {};
  if (stoppedBy === "timeout") return { status: "timed_out", exitCode: 124, ...withDiff };
  const exitCode = ended.signal ? 128 + (SIGNALS[ended.signal] ?? 0) : ended.code;
  if (stoppedBy === "cancel") return { status: "canceled", exitCode, ...withDiff };
  return { status: exitCode === 0 ? "succeeded" : "failed", exitCode, ...withDiff };
}

/**
 * bubblewrap's arguments: the system read-only (the merged-/usr symlinks kept as symlinks), a private /tmp, /proc
 * and /dev, the facility read-write at /workspace, every namespace unshared (the network too unless allowed),
 * and the sandbox killed with the Nexus.
 */
export function sandboxArgs(facilityRoot: string, cwd: string, network: boolean): string[] {
  const args = ["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc", "/etc"];
  for (const dir of ["/bin", "/sbin", "/lib", "/lib32", "/lib64"]) {
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push("--symlink", fs.readlinkSync(dir), dir);
    else if (stat) args.push("--ro-bind", dir, dir);
  }
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  args.push("--bind", facilityRoot, SANDBOX_WORKSPACE, "--chdir", cwd);
  args.push("--unshare-all", ...(network ? ["--share-net"] : []), "--die-with-parent");
  return args;
}

/**
 * Whether bubblewrap can start a sandbox here (installed, and user namespaces allowed); why not otherwise.
 * Asynchronous, so a Nexus running inside the server never blocks its event loop on the probe.
 */
export function bwrapWorks(): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const probe = spawn("bwrap", [...sandboxArgs(os.tmpdir(), SANDBOX_WORKSPACE, false), "--", "true"], {
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    let stderr = "";
    probe.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    probe.once("error", (error) => resolve({ ok: false, detail: `bubblewrap is not installed (${error.message})` }));
    probe.once("close", (code) => {
      if (code !== 0) resolve({ ok: false, detail: `bubblewrap cannot start a sandbox: ${stderr.trim()}` });
      else resolve({ ok: true, detail: "a read-only system, the facility writable, no network by default" });
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
