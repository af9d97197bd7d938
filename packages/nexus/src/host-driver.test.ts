import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DirectiveSpec, directiveSpec } from "@cybros/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { type DriverOutcome, runOnHost } from "./host-driver.js";

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
  const outcome: DriverOutcome = await runOnHost(specOf(request), path.join(scratch, "facility"), {
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
    const outcome = await runOnHost(
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

/** A process that exists and is not a zombie waiting to be reaped (Linux's /proc). */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}
