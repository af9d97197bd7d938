import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { DirectiveSpec, FinalDirectiveState, OutputStream } from "@cybros/protocol";

/** How a run ended, as the driver saw it. */
export interface DriverOutcome {
  status: FinalDirectiveState;
  /** The process's code; 124 after a timeout; 128+N when a signal ended it. */
  exitCode: number | null;
  error?: string;
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

/**
 * The `host` driver: the command runs in its own process group in the facility. A timeout or a cancel sends
 * SIGTERM to the whole group, then SIGKILL after a grace; a timeout reports exit 124.
 */
export async function runOnHost(spec: DirectiveSpec, facilityRoot: string, run: DriverRun): Promise<DriverOutcome> {
  let cwd: string;
  try {
    cwd = facilityCwd(facilityRoot, spec.cwd);
  } catch (error) {
    return { status: "failed", exitCode: null, error: (error as Error).message };
  }
  const env: Record<string, string> = { NO_COLOR: "1", TERM: "dumb", PAGER: "cat", GIT_PAGER: "cat", CI: "true" };
  for (const name of [...BASE_ENV, ...spec.env_allowlist]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, spec.env, { CYBROS_NEXUS: "1", CYBROS_DIRECTIVE_ID: spec.directive_id, CYBROS_WORKSPACE: cwd });
  const [file, args] =
    "argv" in spec.command
      ? [spec.command.argv[0]!, spec.command.argv.slice(1)]
      : ["/bin/sh", ["-c", spec.command.shell]];
  const child = spawn(file, args, { cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });

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
  const collect = (stream: OutputStream) => (data: Buffer) => {
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
  if (stoppedBy === "timeout") return { status: "timed_out", exitCode: 124 };
  const exitCode = ended.signal ? 128 + (SIGNALS[ended.signal] ?? 0) : ended.code;
  if (stoppedBy === "cancel") return { status: "canceled", exitCode };
  return { status: exitCode === 0 ? "succeeded" : "failed", exitCode };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
