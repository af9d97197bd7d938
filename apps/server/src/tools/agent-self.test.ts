import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsOf } from "../accounts/index.js";
import { checkAgentHealth } from "../agents/health.js";
import { agentPrograms } from "../db/schema.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { runToolHere, toolContextFor } from "../testing/tool-context.js";
import { agentCommitTool } from "./agent-commit.js";
import { agentDiffTool } from "./agent-diff.js";
import { agentEditSelfTool } from "./agent-edit-self.js";
import { agentLogTool } from "./agent-log.js";
import { agentReadSelfTool } from "./agent-read-self.js";
import { agentRevertTool } from "./agent-revert.js";
import { agentWriteSelfTool } from "./agent-write-self.js";
import type { Tool, ToolContext } from "./define.js";
import { availableToolNames } from "./registry.js";

let server: TestServer;
let client: TestClient;
let outside: string;

beforeAll(async () => {
  ({ server, client } = await startSignedIn());
  await server.url(); // the health check's test turn calls the built-in mock over HTTP
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-outside-"));
  fs.writeFileSync(path.join(outside, "secret.txt"), "not yours");
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(outside, { recursive: true, force: true });
});

function git(folder: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
}

/** A new blank agent (a real git repository) and a tool context running as it. */
async function blankAgent(name: string): Promise<{ context: ToolContext; folder: string }> {
  const response = await client.post("/api/agents", { name, blank: true });
  expect(response.status).toBe(201);
  const { id } = await response.json();
  const [row] = await server.services.db.select().from(agentPrograms).where(eq(agentPrograms.id, id));
  const context = await toolContextFor(server, { agentId: id });
  return { context: { ...context, agent: { id, name, localPath: row!.localPath } }, folder: row!.localPath };
}

async function run(tool: Tool, args: unknown, context: ToolContext) {
  return runToolHere(tool, args, context);
}

describe("agent self-modification tools", () => {
  it("reads, edits, diffs and commits its own files as the agent", async () => {
    const { context, folder } = await blankAgent("Selfie");
    const read = await run(agentReadSelfTool, { path: "SOUL.md" }, context);
    expect(read.output).toContain("Friendly, direct and honest.");
    expect((await run(agentReadSelfTool, { path: "." }, context)).output).toBe(
      "AGENT.md\nSOUL.md\nUSER.md\nagent.yml\nprompts/",
    );

    const edit = await run(
      agentEditSelfTool,
      { path: "SOUL.md", old_string: "Friendly, direct and honest.", new_string: "Concise above all." },
      context,
    );
    expect(edit.isError).toBeFalsy();
    expect(await run(agentWriteSelfTool, { path: "notes/todo.md", content: "- learn\n" }, context)).toMatchObject({
      summary: "Created notes/todo.md",
    });
    const diff = await run(agentDiffTool, {}, context);
    expect(diff.summary).toBe("2 uncommitted files");
    expect(diff.output).toContain("-Friendly, direct and honest.\n+Concise above all.");
    expect(diff.output).toContain("+- learn");
    expect(git(folder, "status", "--porcelain")).toBe("M SOUL.md\n?? notes/");

    const commit = await run(agentCommitTool, { message: "Be concise" }, context);
    expect(commit.isError, commit.output).toBeFalsy();
    expect(commit.output).toMatch(/^Committed [0-9a-f]{7}: Be concise\nHealth check passed/);
    expect(git(folder, "log", "-1", "--format=%an|%s")).toBe("Cybros (agent)|Be concise");
    expect(git(folder, "status", "--porcelain")).toBe("");
    expect((await run(agentCommitTool, { message: "again" }, context)).output).toBe(
      "Nothing to commit: you have no uncommitted changes.",
    );
    expect((await run(agentLogTool, { limit: 5 }, context)).output).toMatch(
      /^[0-9a-f]{7} \S+ Cybros \(agent\): Be concise\n[0-9a-f]{7} \S+ Cybros: Create Selfie as a blank agent$/,
    );
  });

  it("says which occurrences match when old_string is not unique, and replaces all on request", async () => {
    const { context, folder } = await blankAgent("Edits");
    fs.writeFileSync(path.join(folder, "USER.md"), "a\nx\nb\nx\n");
    const twice = await run(agentEditSelfTool, { path: "USER.md", old_string: "x", new_string: "y" }, context);
    expect(twice).toMatchObject({ isError: true });
    expect(twice.output).toBe(
      "USER.md: old_string occurs 2 times (lines 2, 4); include more context to make it unique, or pass replace_all: true.",
    );
    const missing = await run(agentEditSelfTool, { path: "USER.md", old_string: "zzz", new_string: "y" }, context);
    expect(missing.output).toContain("old_string was not found");
    await run(agentEditSelfTool, { path: "USER.md", old_string: "x", new_string: "y", replace_all: true }, context);
    expect(fs.readFileSync(path.join(folder, "USER.md"), "utf8")).toBe("a\ny\nb\ny\n");
  });

  it("stays inside its own folder: no .., no absolute paths, no .git, no symbolic links out", async () => {
    const { context, folder } = await blankAgent("Jailed");
    fs.symlinkSync(outside, path.join(folder, "escape"));
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(folder, "link.txt"));
    const cases: [Tool, Record<string, unknown>, string][] = [
      [agentReadSelfTool, { path: "../other/agent.yml" }, '".." is not allowed'],
      [agentReadSelfTool, { path: "/etc/passwd" }, "not an absolute one"],
      [agentReadSelfTool, { path: ".git/config" }, "the .git folder is off limits"],
      [agentWriteSelfTool, { path: "sub/../../x", content: "" }, '".." is not allowed'],
      [agentReadSelfTool, { path: "escape/secret.txt" }, "leads outside your folder"],
      [agentReadSelfTool, { path: "link.txt" }, "leads outside your folder"],
      [agentWriteSelfTool, { path: "escape/new.txt", content: "x" }, "leads outside your folder"],
      [agentWriteSelfTool, { path: "link.txt", content: "x" }, "is a symbolic link"],
      [agentEditSelfTool, { path: ".GIT/HEAD", old_string: "a", new_string: "b" }, "off limits"],
    ];
    for (const [tool, args, reason] of cases) {
      const result = await run(tool, args, context);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(result.output, JSON.stringify(args)).toContain(reason);
    }
    expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("not yours");
    expect(fs.existsSync(path.join(outside, "new.txt"))).toBe(false);
  });

  it("refuses to change a bundled agent and says to create a copy", async () => {
    const [bundled] = await server.services.db.select().from(agentPrograms).where(eq(agentPrograms.bundled, true));
    const base = await toolContextFor(server, { agentId: bundled!.id });
    const context = { ...base, agent: { id: bundled!.id, name: bundled!.name, localPath: bundled!.localPath } };
    expect((await run(agentReadSelfTool, { path: "SOUL.md" }, context)).isError).toBeFalsy();
    for (const [tool, args] of [
      [agentWriteSelfTool, { path: "SOUL.md", content: "x" }],
      [agentEditSelfTool, { path: "SOUL.md", old_string: "a", new_string: "b" }],
      [agentCommitTool, { message: "x" }],
      [agentRevertTool, {}],
      [agentDiffTool, {}],
      [agentLogTool, {}],
    ] as [Tool, unknown][]) {
      const result = await run(tool, args, context);
      expect(result.isError).toBe(true);
      expect(result.output).toContain("bundled with Cybros and its files are read-only");
    }
  });

  it("reverts its last commit with a new commit authored as a revert", async () => {
    const { context, folder } = await blankAgent("Undo");
    await run(agentWriteSelfTool, { path: "USER.md", content: "Likes tea.\n" }, context);
    await run(agentCommitTool, { message: "Note tea" }, context);
    await run(agentWriteSelfTool, { path: "USER.md", content: "dirty\n" }, context);
    expect((await run(agentRevertTool, {}, context)).output).toContain("You have uncommitted changes (USER.md)");
    git(folder, "checkout", "--", "USER.md");

    const reverted = await run(agentRevertTool, {}, context);
    expect(reverted.isError, reverted.output).toBeFalsy();
    expect(fs.readFileSync(path.join(folder, "USER.md"), "utf8")).toBe("# About the user\n\nNothing known yet.\n");
    expect(git(folder, "log", "-1", "--format=%an|%s")).toBe('Cybros (revert)|Revert "Note tea"');
    expect((await run(agentRevertTool, { commit: "deadbeef" }, context)).output).toContain("No commit deadbeef");
    const first = git(folder, "rev-list", "--max-parents=0", "HEAD");
    expect((await run(agentRevertTool, { commit: first }, context)).output).toContain("first commit");
  });

  it("reverts a commit that breaks the agent, saying what failed", async () => {
    const { context, folder } = await blankAgent("Breaker");
    const before = fs.readFileSync(path.join(folder, "agent.yml"), "utf8");
    await run(agentWriteSelfTool, { path: "agent.yml", content: "name: Breaker\nmodel: 3\n" }, context);
    const result = await run(agentCommitTool, { message: "Oops" }, context);
    expect(result.isError).toBe(true);
    expect(result.summary).toMatch(/^Reverted [0-9a-f]{7}: health check failed$/);
    expect(result.output).toMatch(
      /^Committed [0-9a-f]{7}: Oops\nThe health check then failed \(load\): agent\.yml: model: must be a mapping\nThe change was reverted automatically by commit [0-9a-f]{7}; /,
    );
    expect(fs.readFileSync(path.join(folder, "agent.yml"), "utf8")).toBe(before);
    expect(git(folder, "log", "-2", "--format=%an|%s")).toBe('Cybros (revert)|Revert "Oops"\nCybros (agent)|Oops');

    // A tool the registry does not know, and a prompt that does not render, fail the check too.
    await run(agentEditSelfTool, { path: "agent.yml", old_string: "- agent_log", new_string: "- agent_nope" }, context);
    expect((await run(agentCommitTool, { message: "Typo" }, context)).output).toContain(
      "(tools): agent.yml: tools.allow: no such tool: agent_nope",
    );
    await run(agentWriteSelfTool, { path: "prompts/system.md.liquid", content: "{% if %}" }, context);
    expect((await run(agentCommitTool, { message: "Bad template" }, context)).output).toContain(
      "The health check then failed (load): prompts/system.md.liquid",
    );
    expect(git(folder, "status", "--porcelain")).toBe("");
  });

  it("fails the health check when the test turn cannot be answered, and reverts", async () => {
    const { context, folder } = await blankAgent("Unanswered");
    const noModel = { ...context.account, settings: { ...settingsOf(context.account), defaultModel: "no-such-model" } };
    const check = await checkAgentHealth(server.services, noModel, { localPath: folder }, availableToolNames());
    expect(check).toMatchObject({ ok: false, step: "test_turn" });
    expect((check as { failure: string }).failure).toMatch(/^the test turn failed: .*no-such-model/);

    await run(agentWriteSelfTool, { path: "USER.md", content: "Prefers short answers.\n" }, context);
    const result = await run(agentCommitTool, { message: "Note a preference" }, { ...context, account: noModel });
    expect(result.isError).toBe(true);
    expect(result.output).toContain("The health check then failed (test_turn): the test turn failed:");
    expect(fs.readFileSync(path.join(folder, "USER.md"), "utf8")).toBe("# About the user\n\nNothing known yet.\n");
  });
});
