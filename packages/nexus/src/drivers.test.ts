import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DirectiveSpec, directiveSpec } from "@cybros/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { bwrapWorks, type DriverOutcome, runDirective } from "./drivers.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-nexus-driver-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function specOf(request: Record<string, unknown>): DirectiveSpec {
  return directiveSpec.parse({
    directive_id: "d1",
    facility: { id: "f1", kind: "empty", root: null },
    ...request,
  });
}

async function run(request: Record<string, unknown>, cancel = new AbortController()) {
  const output: { stream: string; text: string }[] = [];
  const outcome: DriverOutcome = await runDirective(specOf(request), path.join(scratch, "facility"), {
    onOutput: (stream, bytes) => output.push({ stream, text: bytes.toString() }),
    cancel: cancel.signal,
  });
  const text = (stream: string) =>
    output
      .filter((o) => o.stream === stream)
      .map((o) => o.text)
      .join("");
  return { outcome, stdout: text("stdout"), stderr: text("stderr") };
}

describe("host driver", () => {
  it("runs argv and shell commands in the facility with the spec's env and stdin", async () => {
    const echoed = await run({ command: { argv: ["echo", "hi"] } });
    expect(echoed).toMatchObject({ outcome: { status: "succeeded", exitCode: 0 }, stdout: "hi\n" });
    const shell = await run({
      command: { shell: 'pwd; echo "$GREETING"; cat; echo oops >&2; exit 3' },
      cwd: "sub/dir",
      env: { GREETING: "hello" },
      stdin: "from stdin\n",
    });
    expect(shell.outcome).toEqual({ status: "failed", exitCode: 3 });
    const realFacility = fs.realpathSync(path.join(scratch, "facility"));
    expect(shell.stdout).toBe(`${path.join(realFacility, "sub/dir")}\nhello\nfrom stdin\n`);
    expect(shell.stderr).toBe("oops\n");
  });

  it("refuses a cwd that a symlink leads out of the facility", async () => {
    fs.mkdirSync(path.join(scratch, "facility"), { recursive: true });
    fs.symlinkSync(os.tmpdir(), path.join(scratch, "facility", "out"));
    const escaped = await run({ command: { argv: ["true"] }, cwd: "out" });
    expect(escaped.outcome).toMatchObject({ status: "failed", exitCode: null, error: "cwd out leaves the facility" });
  });

  it("times out with 124, ending the whole process group", async () => {
    const pidFile = path.join(scratch, "background.pid");
    const timedOut = await run({ command: { shell: `sleep 30 & echo $! > ${pidFile}; sleep 30` }, timeout_seconds: 1 });
    expect(timedOut.outcome).toEqual({ status: "timed_out", exitCode: 124 });
    expect(isAlive(Number(fs.readFileSync(pidFile, "utf8")))).toBe(false);
  });

  it("cancels with SIGTERM to the group (exit 143)", async () => {
    const cancel = new AbortController();
    const output: string[] = [];
    const outcome = await runDirective(
      specOf({ command: { shell: "echo started; sleep 30" } }),
      path.join(scratch, "f2"),
      {
        onOutput: (_stream, bytes) => {
          output.push(bytes.toString());
          cancel.abort();
        },
        cancel: cancel.signal,
      },
    );
    expect(outcome).toEqual({ status: "canceled", exitCode: 143 });
    expect(output.join("")).toBe("started\n");
  });
});

describe("the facility's git diff", () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd });

  it("comes with the outcome when the facility is a repository, and not otherwise", async () => {
    const repo = path.join(scratch, "repo");
    fs.mkdirSync(repo);
    git(repo, "init", "-q");
    fs.writeFileSync(path.join(repo, "tracked.txt"), "one\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "first");
    const changed = await runDirective(specOf({ command: { shell: "echo two >> tracked.txt; exit 1" } }), repo, {
      onOutput: () => {},
      cancel: new AbortController().signal,
    });
    expect(changed).toMatchObject({ status: "failed", exitCode: 1, diff: { truncated: false } });
    expect(changed.diff!.bytes.toString()).toContain(
      "--- a/tracked.txt\n+++ b/tracked.txt\n@@ -1 +1,2 @@\n one\n+two\n",
    );

    const clean = await runDirective(specOf({ command: { shell: "git checkout -q -- ." } }), repo, {
      onOutput: () => {},
      cancel: new AbortController().signal,
    });
    expect(clean.diff).toEqual({ bytes: Buffer.alloc(0), truncated: false });

    // A folder the repository ignores is not a repository of its own.
    fs.writeFileSync(path.join(repo, ".gitignore"), "scratch/\n");
    const ignored = await runDirective(specOf({ command: { argv: ["true"] } }), path.join(repo, "scratch"), {
      onOutput: () => {},
      cancel: new AbortController().signal,
    });
    expect(ignored).toEqual({ status: "succeeded", exitCode: 0 });
    const plain = await run({ command: { argv: ["true"] } });
    expect(plain.outcome).toEqual({ status: "succeeded", exitCode: 0 });
  });
});

/** A process that exists and is not a zombie waiting to be reaped (Linux's /proc). */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

const bwrap = await bwrapWorks();
if (!bwrap.ok) console.info(`drivers.test.ts: bwrap tests not run: ${bwrap.detail}`);

describe.runIf(bwrap.ok)("bwrap driver", () => {
  it("runs in the facility at /workspace with the system read-only and no network", async () => {
    const script = [
      "pwd",
      "echo made > made.txt && echo wrote",
      "touch /usr/cybros-escape 2>/dev/null || echo system read-only",
      "grep -c : /proc/net/dev",
    ].join("; ");
    const sandboxed = await run({ command: { shell: script }, cwd: "sub", driver: "bwrap" });
    expect(sandboxed.outcome).toEqual({ status: "succeeded", exitCode: 0 });
    // Only the loopback interface exists in an unshared network namespace.
    expect(sandboxed.stdout).toBe("/workspace/sub\nwrote\nsystem read-only\n1\n");
    expect(fs.readFileSync(path.join(scratch, "facility", "sub", "made.txt"), "utf8")).toBe("made\n");
  });

  it("shares the network only when the spec opens it", async () => {
    const open = await run({
      command: { shell: "grep -c : /proc/net/dev" },
      driver: "bwrap",
      capabilities: { network: "open" },
    });
    const hostInterfaces = fs
      .readFileSync("/proc/net/dev", "utf8")
      .split("\n")
      .filter((line) => line.includes(":"));
    expect(Number(open.stdout.trim())).toBe(hostInterfaces.length);
    const allowlist = await run({
      command: { argv: ["true"] },
      driver: "bwrap",
      capabilities: { network: "allowlist", network_allowlist: ["example.com:443"] },
    });
    expect(allowlist.outcome).toMatchObject({ status: "failed", error: expect.stringMatching(/allowlist/) });
  });

  it("cancels the sandbox with SIGTERM", async () => {
    const cancel = new AbortController();
    const outcome = await runDirective(
      specOf({ command: { shell: "echo started; sleep 30" }, driver: "bwrap" }),
      path.join(scratch, "f3"),
      { onOutput: () => cancel.abort(), cancel: cancel.signal },
    );
    expect(outcome).toEqual({ status: "canceled", exitCode: 143 });
  });
});
