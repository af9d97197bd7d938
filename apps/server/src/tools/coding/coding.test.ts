import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DirectiveRequest, directiveRequest, GREP_MAX_MATCHES } from "@cybros/protocol";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Account } from "../../current.js";
import type { Logger } from "../../log.js";
import type { Services } from "../../services.js";
import { workspaceFor } from "../../workspaces/index.js";
import {
  type DirectiveOutcome,
  finishTool,
  isRunDirective,
  runTool,
  type Tool,
  type ToolContext,
  type ToolResult,
} from "../define.js";
import { toolTitle } from "../registry.js";
import { bashTool } from "./bash.js";
import { editFileTool } from "./edit-file.js";
import { gitCommitTool } from "./git-commit.js";
import { gitDiffTool } from "./git-diff.js";
import { gitLogTool } from "./git-log.js";
import { gitStatusTool } from "./git-status.js";
import { globTool } from "./glob.js";
import { grepTool } from "./grep.js";
import { readFileTool } from "./read-file.js";
import { writeFileTool } from "./write-file.js";

vi.mock("../../workspaces/index.js", () => ({ workspaceFor: vi.fn() }));
const workspace = vi.mocked(workspaceFor);

const context = {
  services: {} as Services,
  log: { error: vi.fn() } as unknown as Logger,
  account: { id: "account-1" } as Account,
  agent: { id: "agent-1", name: "coder", localPath: "/nowhere" },
  conversationId: "conversation-1",
  signal: new AbortController().signal,
} satisfies ToolContext;

beforeEach(() => {
  workspace.mockReset();
  workspace.mockResolvedValue({
    facilityId: "facility-1",
    root: "/srv/project",
    kind: "path",
    territory: { id: "territory-1", name: "laptop", platform: "linux", local: false, status: "online" },
  });
});

/** The directive request a tool's call becomes, as the server will validate it. */
async function requestOf(tool: Tool, args: unknown): Promise<DirectiveRequest> {
  const answer = await runTool(tool, args, context);
  if (!isRunDirective(answer)) throw new Error(`${tool.name} answered ${JSON.stringify(answer)}`);
  expect(answer.directive.facilityId).toBe("facility-1");
  expect(directiveRequest.safeParse(answer.directive.request).success).toBe(true);
  return answer.directive.request;
}

function outcome(fields: Partial<DirectiveOutcome>): DirectiveOutcome {
  return {
    state: "succeeded",
    exitCode: 0,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
    result: null,
    diff: null,
    endReason: null,
    durationMs: 1_234,
    territory: { id: "territory-1", name: "laptop" },
    ...fields,
  };
}

const finish = (tool: Tool, ended: Partial<DirectiveOutcome>, args: unknown = {}): Promise<ToolResult> =>
  finishTool(tool, outcome(ended), args, context);

describe("the workspace", () => {
  it("is looked up for the conversation and agent; without one the tool says how to set one", async () => {
    workspace.mockResolvedValue({ missing: "No workspace is set: call workspace_set with the project's path." });
    const answer = await runTool(readFileTool, { path: "a.ts" }, context);
    expect(answer).toMatchObject({
      isError: true,
      summary: "No workspace",
      output: "No workspace is set: call workspace_set with the project's path.",
    });
    expect(workspace).toHaveBeenCalledWith(context.services, {
      accountId: "account-1",
      conversationId: "conversation-1",
      agentId: "agent-1",
    });
  });
});

describe("operation tools", () => {
  it("turn their arguments into the Nexus operation", async () => {
    expect(await requestOf(readFileTool, { path: "src/a.ts", offset: 5, limit: 10 })).toEqual({
      command: { operation: { op: "read_file", path: "src/a.ts", offset: 5, limit: 10 } },
      timeout_seconds: 60,
    });
    expect((await requestOf(writeFileTool, { path: "b.txt", content: "hi" })).command).toEqual({
      operation: { op: "write_file", path: "b.txt", content: "hi" },
    });
    expect((await requestOf(editFileTool, { path: "c", old_string: "a", new_string: "b" })).command).toEqual({
      operation: { op: "edit_file", path: "c", old_string: "a", new_string: "b" },
    });
    expect((await requestOf(globTool, { pattern: "**/*.ts", path: "src" })).command).toEqual({
      operation: { op: "glob", pattern: "**/*.ts", path: "src" },
    });
    expect((await requestOf(grepTool, { pattern: "TODO", glob: "*.ts", ignore_case: true })).command).toEqual({
      operation: { op: "grep", pattern: "TODO", glob: "*.ts", ignore_case: true },
    });
  });

  it("read_file: numbered lines, where to read on, and the range for the card", async () => {
    const read = await finish(readFileTool, {
      result: {
        op: "read_file",
        path: "src/a.ts",
        content: "     1\tone\n     2\ttwo",
        start_line: 1,
        end_line: 2,
        total_lines: 9,
        truncated: true,
      },
    });
    expect(read).toMatchObject({
      summary: "Lines 1-2 of 9",
      output: "     1\tone\n     2\ttwo\n\n(lines 1-2 of 9; read on with offset 3)",
      metadata: { path: "src/a.ts", startLine: 1, endLine: 2, totalLines: 9, truncated: true },
    });
    expect(read.isError).toBeUndefined();
    const empty = await finish(readFileTool, {
      result: { op: "read_file", path: "e", content: "", start_line: 1, end_line: 0, total_lines: 0, truncated: false },
    });
    expect(empty).toMatchObject({ summary: "Empty file", output: "e is empty." });
  });

  it("a refusal from the Nexus is an error result with its reason", async () => {
    const refused = await finish(readFileTool, {
      state: "failed",
      exitCode: 1,
      result: { op: "read_file", error: '../x leaves the workspace: ".." climbs above its root' },
    });
    expect(refused).toMatchObject({ isError: true, output: '../x leaves the workspace: ".." climbs above its root' });
    const odd = await finish(globTool, { result: { op: "grep", matches: [] } });
    expect(odd).toMatchObject({
      isError: true,
      output: "The Nexus answered with a result this server does not understand.",
    });
  });

  it("a directive that never ran says why: rejected, forbidden, canceled, lost", async () => {
    expect(
      await finish(editFileTool, { state: "canceled", exitCode: null, endReason: "rejected: not that file" }),
    ).toMatchObject({
      isError: true,
      summary: "Rejected",
      output: "A person rejected this, so it did not run. Reason: not that file",
    });
    expect(
      await finish(bashTool, { state: "failed", exitCode: null, endReason: "forbidden" }, { command: "x" }),
    ).toMatchObject({
      summary: "Forbidden",
      output: "The policy forbids this, so it did not run.",
    });
    expect(await finish(grepTool, { state: "timed_out", exitCode: null, endReason: "lease_lapsed" })).toMatchObject({
      output: "The machine running it stopped answering, so it was given up.",
    });
    expect(
      await finish(globTool, { state: "timed_out", exitCode: 124, result: { op: "glob", error: "t" } }),
    ).toMatchObject({
      isError: true,
      summary: "Timed out",
    });
  });

  it("write_file, edit_file, glob and grep: what was done, for the model and the card", async () => {
    expect(
      await finish(writeFileTool, { result: { op: "write_file", path: "n.txt", bytes_written: 1, action: "created" } }),
    ).toMatchObject({ summary: "Created, 1 byte", output: "Created n.txt (1 byte).", metadata: { action: "created" } });
    const diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
    expect(
      await finish(editFileTool, {
        result: { op: "edit_file", path: "x", replacements: 2, lines: [1, 7], diff, diff_truncated: false },
      }),
    ).toMatchObject({
      summary: "2 replacements at lines 1, 7",
      output: `Edited x: 2 replacements at lines 1, 7.\n\n${diff}`,
      metadata: { diff, lines: [1, 7] },
    });
    expect(
      await finish(globTool, { result: { op: "glob", pattern: "*.md", path: ".", files: [], truncated: false } }),
    ).toMatchObject({ summary: "No files", output: "No files match *.md." });
    const files = Array.from({ length: 1_000 }, (_, i) => `f${i}`);
    expect(
      await finish(globTool, { result: { op: "glob", pattern: "*", path: ".", files, truncated: true } }),
    ).toMatchObject({ summary: "more than 1000 files", output: expect.stringMatching(/f999\n\(only the first 1000/) });
    const matches = [
      { path: "a.ts", line: 3, text: "TODO one" },
      { path: "b.ts", line: 9, text: "TODO two" },
      { path: "b.ts", line: 12, text: "todo three" },
    ];
    expect(
      await finish(grepTool, {
        result: { op: "grep", pattern: "todo", path: ".", matches, truncated: false, engine: "ripgrep" },
      }),
    ).toMatchObject({
      summary: "3 matches in 2 files",
      output: "a.ts:3:TODO one\nb.ts:9:TODO two\nb.ts:12:todo three",
      metadata: { matches: 3, files: 2, engine: "ripgrep" },
    });
    const many = Array.from({ length: GREP_MAX_MATCHES }, (_, i) => ({ path: "a", line: i + 1, text: "x" }));
    expect(
      await finish(grepTool, {
        result: { op: "grep", pattern: "x", path: ".", matches: many, truncated: true, engine: "builtin" },
      }),
    ).toMatchObject({ summary: `More than ${GREP_MAX_MATCHES} matches in 1 file` });
  });
});

describe("bash", () => {
  it("runs its command as a shell string with its timeout and the network", async () => {
    expect(await requestOf(bashTool, { command: "npm test", timeout_s: 30 })).toEqual({
      command: { shell: "npm test" },
      timeout_seconds: 30,
      capabilities: { network: "open" },
    });
    expect((await requestOf(bashTool, { command: "ls" })).timeout_seconds).toBe(120);
  });

  it("answers exit code, both streams, duration and the cap flags", async () => {
    const failed = await finish(
      bashTool,
      { state: "failed", exitCode: 1, stdout: "FAIL add.test.js\n", stderr: "1 failed\n", stderrTruncated: true },
      { command: "npm test" },
    );
    expect(failed).toMatchObject({
      isError: true,
      summary: "Exit 1 · 1.2 s",
      output:
        "FAIL add.test.js\n[stderr]\n1 failed\n[exit code 1, 1.2 s; stderr reached the output cap; the rest was dropped]",
      metadata: { command: "npm test", exitCode: 1, durationMs: 1_234, stderrTruncated: true, stdoutTruncated: false },
    });
    const passed = await finish(bashTool, { stdout: "ok\n" }, { command: "npm test" });
    expect(passed).toMatchObject({ summary: "Exit 0 · 1.2 s", output: "ok\n[exit code 0, 1.2 s]" });
    expect(passed.isError).toBe(false);
  });

  it("keeps the start and the end of long output, and says it timed out or was canceled", async () => {
    const long = `${"a".repeat(10_000)}${"b".repeat(20_000)}END`;
    const clipped = await finish(
      bashTool,
      { state: "timed_out", exitCode: 124, stdout: long },
      { command: "x", timeout_s: 5 },
    );
    expect(clipped.output).toMatch(
      /^a{4000}\n\[… 10003 characters cut …\]\nb{15997}END\n\[timed out after 5 s \(exit 124\), 1\.2 s\]$/,
    );
    expect(clipped).toMatchObject({ summary: "Timed out", isError: true, metadata: { stdoutTruncated: true } });
    const stopped = await finish(bashTool, { state: "canceled", exitCode: 143, stdout: "partial\n" }, { command: "x" });
    expect(stopped).toMatchObject({ summary: "Canceled", output: "partial\n[canceled (exit 143), 1.2 s]" });
  });
});

describe("titles, for people", () => {
  it("say what the call does from its arguments", () => {
    expect(toolTitle("read_file", { path: "src/a.ts", offset: 1, limit: 80 })).toBe("Read src/a.ts:1-80");
    expect(toolTitle("read_file", { path: "src/a.ts" })).toBe("Read src/a.ts");
    expect(toolTitle("read_file", { path: "src/a.ts", offset: 40 })).toBe("Read src/a.ts from line 40");
    expect(toolTitle("write_file", { path: "b", content: "" })).toBe("Wrote b");
    expect(toolTitle("edit_file", { path: "src/x.ts", old_string: "a", new_string: "b" })).toBe("Edited src/x.ts");
    expect(toolTitle("bash", { command: "npm test" })).toBe("Ran `npm test`");
    expect(toolTitle("bash", { command: "cd web\nnpm test" })).toBe("Ran `cd web …`");
    expect(toolTitle("glob", { pattern: "*.ts", path: "src" })).toBe("Listed files matching *.ts in src");
    expect(toolTitle("grep", { pattern: "TODO" })).toBe("Searched for “TODO”");
    expect(toolTitle("git_status", {})).toBe("Checked git status");
    expect(toolTitle("git_diff", { staged: true, path: "src" })).toBe("Viewed staged changes in src");
    expect(toolTitle("git_commit", { message: "Fix add\n\nIt subtracted." })).toBe("Committed “Fix add”");
    expect(toolTitle("git_log", { path: "README.md" })).toBe("Viewed history of README.md");
  });
});

/** Git tools against a real repository: their requests run here as a Nexus would run them, then `finish`. */
describe("git tools", () => {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-git-tools-"));
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "Ada",
    GIT_AUTHOR_EMAIL: "ada@example.com",
    GIT_COMMITTER_NAME: "Ada",
    GIT_COMMITTER_EMAIL: "ada@example.com",
  };

  /** Runs a directive request in the repository as the host driver would, into an outcome. */
  function runHere(request: DirectiveRequest): DirectiveOutcome {
    const argv = "argv" in request.command ? request.command.argv : undefined;
    const shell = "shell" in request.command ? request.command.shell : undefined;
    const ran = spawnSync(argv ? argv[0]! : "/bin/sh", argv ? argv.slice(1) : ["-c", shell!], {
      cwd: repo,
      env: { ...gitEnv, ...request.env },
      input: request.stdin ?? "",
    });
    return outcome({
      state: ran.status === 0 ? "succeeded" : "failed",
      exitCode: ran.status,
      stdout: ran.stdout.toString(),
      stderr: ran.stderr.toString(),
    });
  }

  async function call(tool: Tool, args: Record<string, unknown> = {}): Promise<ToolResult> {
    return finishTool(tool, runHere(await requestOf(tool, args)), args, context);
  }

  it("says when the workspace is not a repository", async () => {
    expect(await call(gitStatusTool)).toMatchObject({
      isError: true,
      summary: "Not a git repository",
      output: "The workspace is not a git repository (`git init` with the bash tool makes it one).",
    });
  });

  it("status, diff, commit and log read what git answers", async () => {
    spawnSync("git", ["init", "-q", "-b", "main"], { cwd: repo });
    expect(await call(gitLogTool)).toMatchObject({ summary: "No commits yet", metadata: { commits: [] } });
    fs.writeFileSync(path.join(repo, "add.js"), "const add = (a, b) => a - b;\n");
    fs.writeFileSync(path.join(repo, "it's here.txt"), "quote\n");
    const fresh = await call(gitStatusTool);
    expect(fresh).toMatchObject({
      summary: "2 changed files",
      output: "On branch main\nUntracked:\n  add.js\n  it's here.txt",
    });

    const first = await call(gitCommitTool, { message: "Add add", paths: ["add.js"] });
    expect(first).toMatchObject({
      summary: expect.stringMatching(/^[0-9a-f]{7,} · 1 file changed, \+1 −0$/),
      metadata: { branch: "main", filesChanged: 1, insertions: 1, deletions: 0 },
    });
    expect(await call(gitStatusTool)).toMatchObject({ output: "On branch main\nUntracked:\n  it's here.txt" });

    fs.writeFileSync(path.join(repo, "add.js"), "const add = (a, b) => a + b;\n");
    const diff = await call(gitDiffTool);
    expect(diff).toMatchObject({ summary: "1 file, +1 −1", metadata: { files: 1, insertions: 1, deletions: 1 } });
    expect(diff.output).toContain("-const add = (a, b) => a - b;\n+const add = (a, b) => a + b;");
    expect(await call(gitDiffTool, { staged: true })).toMatchObject({
      summary: "No changes",
      output: "No staged changes.",
    });
    expect((await runTool(gitDiffTool, { path: "../elsewhere" }, context)) as ToolResult).toMatchObject({
      isError: true,
      output: "Invalid arguments: path: must stay inside the facility",
    });

    const second = await call(gitCommitTool, {
      message: "Fix add\n\nIt subtracted.",
      paths: ["add.js", "it's here.txt"],
    });
    expect(second).toMatchObject({ metadata: { filesChanged: 2, insertions: 2, deletions: 1 } });
    expect(await call(gitCommitTool, { message: "Again" })).toMatchObject({
      isError: true,
      summary: "Nothing to commit",
    });

    const log = await call(gitLogTool, { limit: 5 });
    expect(log).toMatchObject({
      summary: "2 commits",
      metadata: { commits: [{ subject: "Fix add" }, { subject: "Add add" }] },
    });
    expect(log.output).toMatch(
      /^[0-9a-f]{7,} \d{4}-\d\d-\d\d Ada: Fix add\n[0-9a-f]{7,} \d{4}-\d\d-\d\d Ada: Add add$/,
    );
    const ofFile = await call(gitLogTool, { path: "it's here.txt" });
    expect(ofFile).toMatchObject({ summary: "1 commit", metadata: { commits: [{ subject: "Fix add" }] } });
  });
});
