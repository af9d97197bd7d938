import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { agentSummary } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "../config.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { SELF_MODIFICATION_TOOLS } from "./blank.js";
import { loadAgentProgram, renderSystemPrompt } from "./loader.js";

let server: TestServer;
let client: TestClient;
let scratch: string;
beforeEach(async () => {
  ({ server, client } = await startSignedIn());
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-create-test-"));
});
afterEach(async () => {
  await server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function git(folder: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
}

function createdFolders(): string[] {
  const folder = path.join(server.config.dataDir, "agents");
  return fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
}

async function agentCount(): Promise<number> {
  return (await (await client.get("/api/agents")).json()).agents.length;
}

/** A bare repository holding `files` in one commit, as a file:// URL. */
function bareRepository(name: string, files: Record<string, string>): string {
  const work = path.join(scratch, `${name}-work`);
  fs.mkdirSync(work);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    fs.writeFileSync(path.join(work, file), content);
  }
  git(work, "init", "-q");
  git(work, "add", "-A");
  git(work, "-c", "user.name=T", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-qm", "init");
  const bare = path.join(scratch, `${name}.git`);
  execFileSync("git", ["clone", "-q", "--bare", work, bare]);
  return `file://${bare}`;
}

const profileFiles = (): Record<string, string> => {
  const root = path.join(repoRoot, "agents/default-assistant");
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[]) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(root, full)] = fs.readFileSync(full, "utf8");
  }
  return files;
};

describe("creating an agent from a Git URL", () => {
  it("clones a file:// repository into a new repository with one commit, renamed", async () => {
    const url = bareRepository("upstream", { ...profileFiles(), "notes/extra.md": "kept\n" });
    const response = await client.post("/api/agents", { name: "Cloned", gitUrl: url });
    expect(response.status).toBe(201);
    const agent = agentSummary.parse(await response.json());
    expect(agent.profileSource).toBe(`git:${url}`);
    const folder = path.join(server.config.dataDir, "agents", "cloned");
    expect(git(folder, "rev-list", "--count", "HEAD")).toBe("1");
    expect(git(folder, "status", "--porcelain")).toBe("");
    expect(git(folder, "log", "-1", "--format=%s")).toBe(`Create Cloned from ${url}`);
    expect(fs.readFileSync(path.join(folder, "notes/extra.md"), "utf8")).toBe("kept\n");
    const definition = await loadAgentProgram(folder);
    expect(definition.manifest.name).toBe("Cloned");
  });

  it("refuses a clone that is not a valid agent program, leaving no folder and no row", async () => {
    const before = await agentCount();
    const cases: [Record<string, string>, string][] = [
      [{ "README.md": "hi\n" }, "is not a valid agent program: agent.yml: is missing"],
      [{ "agent.yml": "name: [unclosed\n" }, "is not a valid agent program: agent.yml: line 2:"],
      [{ "agent.yml": "name: X\nmodel: 3\n" }, "is not a valid agent program: agent.yml: model: must be a mapping"],
    ];
    for (const [index, [files, reason]] of cases.entries()) {
      const response = await client.post("/api/agents", {
        name: "Broken",
        gitUrl: bareRepository(`bad${index}`, files),
      });
      expect(response.status).toBe(422);
      expect((await response.json()).error.fields.gitUrl).toContain(reason);
    }
    expect(createdFolders()).toEqual([]);
    expect(await agentCount()).toBe(before);
  });

  it("refuses URLs it must not clone, with the reason on gitUrl", async () => {
    const cases: [string, string][] = [
      ["ssh://git@example.com/x.git", "must be an https:// or file:// URL"],
      ["ext::sh -c touch% /tmp/pwned", "must be an https:// or file:// URL"],
      ["http://example.com/x.git", "must be an https:// or file:// URL"],
      ["--upload-pack=touch /tmp/pwned", "must be an https:// or file:// URL"],
      ["https://127.0.0.1/x.git", "points to a private, loopback or link-local address (127.0.0.1)"],
      ["https://[::1]/x.git", "points to a private, loopback or link-local address (::1)"],
      [`file://${scratch}/missing.git`, "does not appear to be a git repository"],
    ];
    for (const [gitUrl, reason] of cases) {
      const response = await client.post("/api/agents", { name: "Nope", gitUrl });
      expect(response.status, gitUrl).toBe(422);
      expect((await response.json()).error.fields.gitUrl, gitUrl).toContain(reason);
    }
    expect(createdFolders()).toEqual([]);
  });

  it("checks symbolic links out as plain files, so a clone cannot reach outside its folder", async () => {
    const url = bareRepository("links", profileFiles());
    const work = path.join(scratch, "links-work");
    fs.symlinkSync("/etc/hostname", path.join(work, "USER.md.link"));
    git(work, "add", "-A");
    git(work, "-c", "user.name=T", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-qm", "link");
    git(work, "push", "-q", url.slice("file://".length), "HEAD");
    expect((await client.post("/api/agents", { name: "Linked", gitUrl: url })).status).toBe(201);
    const copied = path.join(server.config.dataDir, "agents", "linked", "USER.md.link");
    expect(fs.lstatSync(copied).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(copied, "utf8")).toBe("/etc/hostname");
  });
});

describe("creating a blank agent", () => {
  it("writes a minimal program that loads, renders its prompt and allows the self-modification tools", async () => {
    const response = await client.post("/api/agents", { name: "Fresh", blank: true, description: "Scratch" });
    expect(response.status).toBe(201);
    expect(agentSummary.parse(await response.json())).toMatchObject({ profileSource: "blank", description: "Scratch" });
    const folder = path.join(server.config.dataDir, "agents", "fresh");
    expect(git(folder, "rev-list", "--count", "HEAD")).toBe("1");
    expect(git(folder, "status", "--porcelain")).toBe("");
    const definition = await loadAgentProgram(folder);
    expect(definition.warnings).toEqual([]);
    expect(definition.manifest.tools.allow).toEqual([...SELF_MODIFICATION_TOOLS]);
    expect(definition.instructions.soul).toContain("Friendly");
    expect(renderSystemPrompt(definition, { user: { name: "Ada" } })).toMatch(
      /^You are Fresh\.\nWhat you are for: Scratch\nYou are talking with Ada\.\n/,
    );
  });

  it("quotes a name that YAML would otherwise misread", async () => {
    expect((await client.post("/api/agents", { name: "yes: #1", blank: true })).status).toBe(201);
    const definition = await loadAgentProgram(path.join(server.config.dataDir, "agents", "yes-1"));
    expect(definition.manifest.name).toBe("yes: #1");
  });
});
