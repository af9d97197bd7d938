import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { agentDetail, agentProfile, agentSummary } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "../config.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";

let server: TestServer;
let client: TestClient;
// In a hook: booting a server can take a while on a busy machine, and hooks get the longer timeout.
beforeEach(async () => {
  ({ server, client } = await startSignedIn());
});
afterEach(async () => {
  await server.close();
});

function git(folder: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
}

function agentsFolder(): string {
  return path.join(server.config.dataDir, "agents");
}

function createdFolders(): string[] {
  return fs.existsSync(agentsFolder()) ? fs.readdirSync(agentsFolder()).sort() : [];
}

/** Every file under a folder, relative, leaving out .git. */
function filesIn(folder: string): string[] {
  return (fs.readdirSync(folder, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(folder, path.join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith(".git"))
    .sort();
}

const profileDir = path.join(repoRoot, "agents/default-assistant");

describe("listing agents and profiles", () => {
  it("lists the bundled agents, and they are the profiles to create from", async () => {
    const list = await client.get("/api/agents");
    expect(list.status).toBe(200);
    const { agents } = await list.json();
    expect(agents.map((a: { name: string }) => a.name)).toEqual(["Coder", "Default Assistant", "Mac Assistant"]);
    const assistant = agents[1];
    expect(agentSummary.parse(assistant)).toEqual({
      id: expect.any(String),
      name: "Default Assistant",
      description: expect.stringContaining("general assistant"),
      bundled: true,
      profileSource: "bundled:default-assistant",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const profiles = await (await client.get("/api/agents/profiles")).json();
    expect(profiles.profiles.map((p: unknown) => agentProfile.parse(p))).toEqual([
      { id: "coder", name: "Coder", description: expect.stringContaining("programmer") },
      { id: "default-assistant", name: "Default Assistant", description: assistant.description },
      { id: "mac-assistant", name: "Mac Assistant", description: expect.stringContaining("Mac") },
    ]);
  });

  it("searches names and descriptions, treating % and _ literally", async () => {
    expect((await client.post("/api/agents", { name: "Research Buddy", profile: "default-assistant" })).status).toBe(
      201,
    );
    const names = async (q: string) =>
      ((await (await client.get(`/api/agents?q=${encodeURIComponent(q)}`)).json()).agents as { name: string }[]).map(
        (a) => a.name,
      );
    expect(await names("buddy")).toEqual(["Research Buddy"]);
    expect(await names("REMEMBERS")).toEqual(["Default Assistant", "Research Buddy"]);
    expect(await names("%")).toEqual([]);
    expect(await names("_")).toEqual([]);
    expect(await names("")).toEqual(["Coder", "Default Assistant", "Mac Assistant", "Research Buddy"]);
  });

  it("needs a session", async () => {
    expect((await server.client().get("/api/agents")).status).toBe(401);
    expect((await server.client().get("/api/agents/profiles")).status).toBe(401);
  });
});

describe("creating an agent from a profile", () => {
  it("copies the profile into a new git repository with one commit, renamed, and records it", async () => {
    const response = await client.post("/api/agents", {
      name: "  Research Buddy ",
      profile: "default-assistant",
      description: "Digs up sources.",
    });
    expect(response.status).toBe(201);
    const created = agentSummary.parse(await response.json());
    expect(created).toMatchObject({
      name: "Research Buddy",
      description: "Digs up sources.",
      bundled: false,
      profileSource: "copy:default-assistant",
    });

    const folder = path.join(agentsFolder(), "research-buddy");
    expect(createdFolders()).toEqual(["research-buddy"]);
    expect(filesIn(folder)).toEqual(filesIn(profileDir));
    expect(git(folder, "rev-list", "--count", "HEAD")).toBe("1");
    expect(git(folder, "status", "--porcelain")).toBe("");
    expect(git(folder, "log", "-1", "--format=%an <%ae> %s")).toBe(
      "Cybros <cybros@localhost> Create Research Buddy from the default-assistant profile",
    );
    expect(git(folder, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");
    const manifest = fs.readFileSync(path.join(folder, "agent.yml"), "utf8");
    expect(manifest).toContain("name: Research Buddy\n");
    expect(manifest).toContain("description: Digs up sources.\n");
    // Comments in the profile survive the rename.
    expect(manifest).toContain("# Only tools named here are offered to the model.");
    expect(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8")).toBe(
      fs.readFileSync(path.join(profileDir, "SOUL.md"), "utf8"),
    );

    const detail = agentDetail.parse(await (await client.get(`/api/agents/${created.id}`)).json());
    expect(detail.agent).toEqual(created);
    expect(detail.loadError).toBeNull();
    expect(detail.manifest).toMatchObject({ name: "Research Buddy", description: "Digs up sources." });
    expect(detail.gitCommit).toBe(git(folder, "rev-parse", "HEAD"));
    expect(detail.localPath).toBe(folder);
  });

  it("commits on a machine with no git identity or global config", async () => {
    const home = fs.mkdtempSync(path.join(server.config.dataDir, "home-"));
    const saved = { ...process.env };
    try {
      process.env.HOME = home;
      process.env.GIT_CONFIG_GLOBAL = path.join(home, "missing-gitconfig");
      process.env.GIT_CONFIG_NOSYSTEM = "1";
      const response = await client.post("/api/agents", { name: "Lonely", profile: "default-assistant" });
      expect(response.status).toBe(201);
      expect(git(path.join(agentsFolder(), "lonely"), "rev-list", "--count", "HEAD")).toBe("1");
    } finally {
      for (const key of ["HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it("gives each agent its own folder even when names slug alike", async () => {
    expect((await client.post("/api/agents", { name: "Café Helper", profile: "default-assistant" })).status).toBe(201);
    expect((await client.post("/api/agents", { name: "cafe-helper", profile: "default-assistant" })).status).toBe(201);
    expect((await client.post("/api/agents", { name: "!!!", profile: "default-assistant" })).status).toBe(201);
    expect(createdFolders()).toEqual(["agent", "cafe-helper", "cafe-helper-2"]);
  });

  it("refuses a name already used, case-insensitively, and creates nothing", async () => {
    expect((await client.post("/api/agents", { name: "Buddy", profile: "default-assistant" })).status).toBe(201);
    for (const name of ["buddy", "BUDDY", "default assistant"]) {
      const response = await client.post("/api/agents", { name, profile: "default-assistant" });
      expect(response.status).toBe(422);
      expect((await response.json()).error.fields).toEqual({ name: "is already used by another agent" });
    }
    expect(createdFolders()).toEqual(["buddy"]);
    expect((await (await client.get("/api/agents")).json()).agents).toHaveLength(4);
  });

  it("lets exactly one of two simultaneous creates with one name through, leaving one folder", async () => {
    const responses = await Promise.all([
      client.post("/api/agents", { name: "Twin", profile: "default-assistant" }),
      client.post("/api/agents", { name: "twin", profile: "default-assistant" }),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 422]);
    // The loser's folder is gone, whichever of the two claimed "twin" first.
    expect(createdFolders()).toHaveLength(1);
    expect(createdFolders()[0]).toMatch(/^twin(-2)?$/);
    expect((await (await client.get("/api/agents?q=twin")).json()).agents).toHaveLength(1);
  });

  it("validates the input field by field", async () => {
    const cases: [unknown, Record<string, string>][] = [
      [{}, { name: "is required" }],
      [{ name: "A" }, { profile: "is required" }],
      [{ name: "A", profile: "default-assistant", blank: true }, { blank: "cannot be combined with profile" }],
      [{ name: " ", profile: "default-assistant" }, { name: "is required" }],
      [{ name: "x".repeat(81), profile: "default-assistant" }, { name: "must be at most 80 characters" }],
      [{ name: "A\u0007B", profile: "default-assistant" }, { name: "must not contain control characters" }],
      [{ name: "A", profile: "no-such-profile" }, { profile: "is not a bundled profile" }],
      [{ name: "A", profile: "../default-assistant" }, { profile: "is not a bundled profile" }],
      [{ name: "A", profile: 3 }, { profile: "must be a string" }],
    ];
    for (const [body, fields] of cases) {
      const response = await client.post("/api/agents", body);
      expect(response.status).toBe(422);
      expect((await response.json()).error.fields).toEqual(fields);
    }
    expect(createdFolders()).toEqual([]);
  });

  it("removes the folder and records nothing when git fails", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(server.config.dataDir, "no-binaries-here");
    let status: number;
    try {
      status = (await client.post("/api/agents", { name: "Doomed", profile: "default-assistant" })).status;
    } finally {
      process.env.PATH = savedPath;
    }
    expect(status).toBe(500);
    expect(createdFolders()).toEqual([]);
    expect((await (await client.get("/api/agents?q=doomed")).json()).agents).toEqual([]);
    // And the name is free again.
    expect((await client.post("/api/agents", { name: "Doomed", profile: "default-assistant" })).status).toBe(201);
  });
});

describe("agent detail", () => {
  async function bundledId(): Promise<string> {
    const { agents } = await (await client.get("/api/agents")).json();
    return agents.find((a: { profileSource: string }) => a.profileSource === "bundled:default-assistant").id;
  }

  it("shows the bundled program's files, tools, models and skills", async () => {
    const response = await client.get(`/api/agents/${await bundledId()}`);
    expect(response.status).toBe(200);
    const detail = agentDetail.parse(await response.json());
    expect(detail.loadError).toBeNull();
    expect(detail.warnings).toEqual([]);
    expect(detail.manifestText).toBe(fs.readFileSync(path.join(profileDir, "agent.yml"), "utf8"));
    expect(detail.manifest).toMatchObject({ name: "Default Assistant", model: { prefer: [] } });
    expect(detail.files.map((f) => f.path)).toEqual([
      "AGENT.md",
      "SOUL.md",
      "USER.md",
      "prompts/system.md.liquid",
      "skills/web-research/SKILL.md",
    ]);
    expect(detail.files[1]!.content).toBe(fs.readFileSync(path.join(profileDir, "SOUL.md"), "utf8"));
    expect(detail.tools).toContain("skills_read_file");
    expect(detail.skills).toEqual([
      { name: "web-research", description: expect.any(String), path: "skills/web-research" },
    ]);
    expect(detail.models).toEqual([]);
    expect(detail.defaultModel).toEqual({
      model: "mock-model",
      provider: { id: expect.any(String), name: "Mock LLM" },
    });
    // The bundled folder sits inside the app's repository, which says nothing about this agent's version.
    expect(detail.gitCommit).toBeNull();
  });

  it("says which provider serves each preferred model", async () => {
    const created = await (await client.post("/api/agents", { name: "Picky", profile: "default-assistant" })).json();
    const manifestFile = path.join(agentsFolder(), "picky", "agent.yml");
    fs.writeFileSync(
      manifestFile,
      fs.readFileSync(manifestFile, "utf8").replace("prefer: []", "prefer: [unserved-model, mock-model]"),
    );
    const detail = agentDetail.parse(await (await client.get(`/api/agents/${created.id}`)).json());
    expect(detail.models).toEqual([
      { model: "unserved-model", provider: null },
      { model: "mock-model", provider: { id: expect.any(String), name: "Mock LLM" } },
    ]);
  });

  it("describes a broken program instead of failing: the error, the raw agent.yml, the files", async () => {
    const created = await (await client.post("/api/agents", { name: "Broken", profile: "default-assistant" })).json();
    const folder = path.join(agentsFolder(), "broken");
    fs.writeFileSync(path.join(folder, "agent.yml"), "name: Broken\nmodel:\n  prefer: gpt\n");
    fs.writeFileSync(path.join(folder, "skills/web-research/SKILL.md"), "no frontmatter");
    const response = await client.get(`/api/agents/${created.id}`);
    expect(response.status).toBe(200);
    const detail = agentDetail.parse(await response.json());
    expect(detail.loadError).toBe("agent.yml: model.prefer: must be a list of strings");
    expect(detail.manifest).toBeNull();
    expect(detail.manifestText).toBe("name: Broken\nmodel:\n  prefer: gpt\n");
    expect(detail.files.map((f) => f.path)).toContain("AGENT.md");
    expect(detail.files.find((f) => f.path === "skills/web-research/SKILL.md")?.content).toBe("no frontmatter");
    expect(detail.tools).toEqual([]);

    fs.rmSync(folder, { recursive: true });
    const gone = agentDetail.parse(await (await client.get(`/api/agents/${created.id}`)).json());
    expect(gone.loadError).toBe("the agent folder does not exist");
    expect(gone.files).toEqual([]);
    expect(gone.manifestText).toBeNull();
  });

  it("answers 404 for unknown and malformed ids", async () => {
    for (const id of ["0190a0a0-0000-7000-8000-000000000000", "not-a-uuid", "1'; drop table agent_programs; --"]) {
      const response = await client.get(`/api/agents/${encodeURIComponent(id)}`);
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe("not_found");
    }
  });
});
