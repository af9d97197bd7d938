import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAccount } from "../../accounts/index.js";
import { createDirective, createEnrollmentToken, createFacility, type DirectiveRow } from "../../conduits/index.js";
import { directiveOutcome } from "../../conduits/outcome.js";
import { repoRoot } from "../../config.js";
import { startTestServer, type TestServer } from "../../testing/harness.js";
import { workspaceFor } from "../../workspaces/index.js";
import { finishTool, isRunDirective, runTool, type Tool, type ToolContext } from "../define.js";
import { bashTool } from "./bash.js";
import { editFileTool } from "./edit-file.js";
import { grepTool } from "./grep.js";
import { readFileTool } from "./read-file.js";

vi.mock("../../workspaces/index.js", () => ({ workspaceFor: vi.fn() }));

const nexusBin = path.join(repoRoot, "node_modules/.bin/cybros-nexus");

/** Coding tools end to end: the tool's directive, a real `cybros-nexus` performing it, the tool's result. */
describe("coding tools through a real Nexus", () => {
  let server: TestServer;
  let nexus: ChildProcess;
  let context: ToolContext;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-coding-nexus-"));
  const project = path.join(dir, "project");
  const waiters = new Map<string, (directive: DirectiveRow) => void>();

  beforeAll(async () => {
    server = await startTestServer();
    server.services.conduits.onDirectiveFinished((directive) => waiters.get(directive.id)?.(directive));
    const account = await defaultAccount(server.services.db);
    const { token } = await createEnrollmentToken(server.services.db, account.id);
    const url = await server.url();
    const enrolled = await promisify(execFile)(nexusBin, ["enroll", "--server", url, "--token", token, "--dir", dir]);
    const territoryId = /territory (\S+);/.exec(enrolled.stdout)![1]!;
    nexus = spawn(nexusBin, ["run", "--dir", dir], { stdio: ["ignore", "inherit", "inherit"] });

    fs.mkdirSync(path.join(project, "src"), { recursive: true });
    fs.writeFileSync(path.join(project, "src/add.js"), "export const add = (a, b) => a - b;\n");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: project });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "first");

    const facility = await createFacility(server.services.db, { territoryId, kind: "path", root: project });
    vi.mocked(workspaceFor).mockResolvedValue({
      facilityId: facility.id,
      root: project,
      kind: "path",
      territory: { id: territoryId, name: "test", platform: process.platform, local: false, status: "online" },
    });
    context = {
      services: server.services,
      log: server.services.log,
      account,
      agent: { id: "agent-1", name: "coder", localPath: dir },
      conversationId: "conversation-1",
      signal: new AbortController().signal,
    };
  });

  afterAll(async () => {
    if (nexus && nexus.exitCode === null) {
      const exited = new Promise((resolve) => nexus.once("exit", resolve));
      nexus.kill("SIGTERM");
      await exited;
    }
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What `finish` gets: the outcome the run's wait resolves with. */
  const outcomeOf = (directive: DirectiveRow) => directiveOutcome(server.services, directive);

  async function call(tool: Tool, args: Record<string, unknown>) {
    const answer = await runTool(tool, args, context);
    if (!isRunDirective(answer)) throw new Error(`${tool.name} answered ${JSON.stringify(answer)}`);
    const directive = await createDirective(server.services, answer.directive);
    const ended = await new Promise<DirectiveRow>((resolve) => waiters.set(directive.id, resolve));
    return { directive: ended, result: await finishTool(tool, await outcomeOf(ended), args, context) };
  }

  it("reads, edits and searches files in the facility, and refuses a path out of it", async () => {
    const read = await call(readFileTool, { path: "src/add.js" });
    expect(read.directive).toMatchObject({ state: "succeeded", exitCode: 0, diff: null });
    expect(read.result).toMatchObject({
      summary: "Lines 1-1 of 1",
      output: "     1\texport const add = (a, b) => a - b;",
      metadata: { path: "src/add.js", totalLines: 1 },
    });

    const edit = await call(editFileTool, { path: "src/add.js", old_string: "a - b", new_string: "a + b" });
    expect(edit.result).toMatchObject({ summary: "1 replacement at line 1", metadata: { path: "src/add.js" } });
    expect(edit.result.output).toContain("-export const add = (a, b) => a - b;\n+export const add = (a, b) => a + b;");
    expect(fs.readFileSync(path.join(project, "src/add.js"), "utf8")).toBe("export const add = (a, b) => a + b;\n");

    const found = await call(grepTool, { pattern: "a \\+ b" });
    expect(found.result).toMatchObject({
      summary: "1 match in 1 file",
      output: "src/add.js:1:export const add = (a, b) => a + b;",
    });

    const outside = await call(readFileTool, { path: "../nexus.json" });
    expect(outside.directive).toMatchObject({ state: "failed", exitCode: 1 });
    expect(outside.result).toMatchObject({
      isError: true,
      output: '../nexus.json leaves the workspace: ".." climbs above its root',
    });
  });

  it("runs bash in the facility and reports the repository's diff", async () => {
    const ran = await call(bashTool, { command: "echo '// more' >> src/add.js && echo appended" });
    expect(ran.result).toMatchObject({
      summary: expect.stringMatching(/^Exit 0/),
      output: expect.stringMatching(/^appended\n\[exit code 0, \d+\.\d s\]$/),
    });
    expect(ran.directive.diff).toContain(
      "-export const add = (a, b) => a - b;\n+export const add = (a, b) => a + b;\n+// more\n",
    );
  });
});
