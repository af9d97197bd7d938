import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { repoRoot } from "../config.js";
import { availableToolNames, toolsFor } from "../tools/registry.js";
import { AgentProgramError } from "./errors.js";
import { loadAgentProgram, renderSystemPrompt } from "./loader.js";
import { formatSkillsIndex } from "./skills.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agent-"));
  folders.push(folder);
  return folder;
}

const MANIFEST = `name: Test Agent
description: Answers test questions.
model:
  prefer: [mock-model, other-model]
tools:
  allow: [memory_search, skills_load]
args:
  tone: plain
`;

/** Writes a program folder; keys are relative paths. */
function writeProgram(files: Record<string, string>, folder = tempFolder()): string {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(folder, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return folder;
}

function skill(name: string, description: string, body = "Do the thing."): string {
  return `---\nname: ${name}\ndescription: ${description}\n---\n\n${body}\n`;
}

async function loadError(folder: string): Promise<string> {
  const error = await loadAgentProgram(folder).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentProgramError);
  return (error as Error).message;
}

/** Pushes a file's timestamps into the past, out of the window where the cache refuses to trust them. */
function age(file: string, secondsAgo = 60): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, when, when);
}

describe("loading an agent program", () => {
  it("reads agent.yml, the instruction files, the template and the skills index", async () => {
    const folder = writeProgram({
      "agent.yml": MANIFEST,
      "AGENT.md": "# Rules\nBe brief.\r\n",
      "SOUL.md": "\uFEFFCalm.",
      "USER.md": "The user likes tea.",
      "prompts/system.md.liquid": "You are {{ agent.name }}.",
      "skills/zeta/SKILL.md": skill("zeta", "Last skill."),
      "skills/alpha/SKILL.md": skill("alpha", "First skill."),
      "skills/alpha/references/notes.md": "notes",
    });
    const definition = await loadAgentProgram(folder);
    expect(definition.manifest).toMatchObject({
      name: "Test Agent",
      description: "Answers test questions.",
      model: { prefer: ["mock-model", "other-model"] },
      tools: { allow: ["memory_search", "skills_load"] },
      args: { tone: "plain" },
    });
    expect(definition.manifestText).toBe(MANIFEST);
    // One text form whatever the editor saved: no BOM, LF line ends.
    expect(definition.instructions).toEqual({
      agent: "# Rules\nBe brief.\n",
      soul: "Calm.",
      user: "The user likes tea.",
    });
    expect(definition.skills).toEqual([
      { name: "alpha", description: "First skill.", path: "skills/alpha" },
      { name: "zeta", description: "Last skill.", path: "skills/zeta" },
    ]);
    expect(definition.warnings).toEqual([]);
    expect(definition.gitCommit).toBeNull();
    expect(renderSystemPrompt(definition)).toBe("You are Test Agent.");
    expect(formatSkillsIndex(definition.skills)).toContain("- alpha: First skill.\n- zeta: Last skill.");
  });

  it("loads with every optional file missing", async () => {
    const folder = writeProgram({ "agent.yml": "name: Bare\n" });
    const definition = await loadAgentProgram(folder);
    expect(definition.manifest).toEqual({
      name: "Bare",
      description: "",
      model: { prefer: [] },
      tools: { allow: [], custom: [], approval: [] },
      args: {},
    });
    expect(definition.instructions).toEqual({ agent: null, soul: null, user: null });
    expect(definition.templates).toBeNull();
    expect(definition.skills).toEqual([]);
    expect(renderSystemPrompt(definition, { user: { name: "Ada" } })).toBe("");
  });

  it("loads the bundled default-assistant", async () => {
    const definition = await loadAgentProgram(path.join(repoRoot, "agents/default-assistant"));
    expect(definition.manifest.name).toBe("Default Assistant");
    expect(definition.manifest.tools.allow).toEqual([
      "memory_search",
      "memory_store",
      "memory_forget",
      "skills_list",
      "skills_load",
      "skills_read_file",
      "web_search",
      "web_fetch",
      "bash",
    ]);
    expect(definition.warnings).toEqual([]);
    expect(definition.instructions.agent).toContain("memory_search");
    expect(definition.instructions.soul).toBeTruthy();
    expect(definition.instructions.user).toBeTruthy();
    expect(definition.skills.map((s) => s.name)).toEqual(["web-research"]);
    const prompt = renderSystemPrompt(definition, { user: { name: "Ada" }, args: { answer_language: "French" } });
    expect(prompt).toContain("You are Default Assistant");
    expect(prompt).toContain("You are talking with Ada.");
    expect(prompt).toContain("Answer in French");
    expect(renderSystemPrompt(definition)).not.toContain("talking with");
  });

  it("loads the bundled coder: the coding tools, its workflow skill, a prompt that names the test command", async () => {
    const definition = await loadAgentProgram(path.join(repoRoot, "agents/coder"));
    expect(definition.manifest.name).toBe("Coder");
    expect(definition.warnings).toEqual([]);
    expect(definition.manifest.tools.allow).toEqual(
      expect.arrayContaining([
        ...["read_file", "write_file", "edit_file", "bash", "glob", "grep", "workspace_set"],
        ...["git_status", "git_diff", "git_commit", "git_log", "memory_search", "skills_load"],
      ]),
    );
    expect(definition.instructions.agent).toContain("workspace_set");
    expect(definition.instructions.soul).toBeTruthy();
    expect(definition.instructions.user).toBeTruthy();
    expect(definition.skills.map((s) => s.name)).toEqual(["coding-workflow"]);
    expect(definition.skills[0]!.description).toContain("run the tests");
    const prompt = renderSystemPrompt(definition, { user: { name: "Ada" }, args: { test_command: "npm test" } });
    expect(prompt).toContain("You are Coder, a programming agent");
    expect(prompt).toContain("You are working with Ada.");
    expect(prompt).toContain("Run the project's tests with `npm test`");
    expect(renderSystemPrompt(definition)).not.toContain("Run the project's tests");
  });

  it("loads the bundled mac-assistant: the macOS tools and a prompt", async () => {
    const definition = await loadAgentProgram(path.join(repoRoot, "agents/mac-assistant"));
    expect(definition.manifest.name).toBe("Mac Assistant");
    expect(definition.warnings).toEqual([]);
    expect(definition.manifest.tools.allow).toEqual(
      expect.arrayContaining(["open_url", "run_applescript", "run_shortcut", "list_apps", "take_screenshot"]),
    );
    expect(definition.manifest.tools.approval).toEqual([]);
    expect(definition.instructions.agent).toContain("take_screenshot");
    expect(definition.skills.map((s) => s.name)).toEqual(["mac-automation"]);
    const prompt = renderSystemPrompt(definition, { user: { name: "Ada" }, args: { answer_language: "German" } });
    expect(prompt).toContain("You are Mac Assistant, an assistant that acts on the user's Mac");
    expect(prompt).toContain("You are helping Ada.");
    expect(prompt).toContain("Answer in German");
  });

  it("offers only the allowed tools that exist here, so a manifest may name tools this server lacks", async () => {
    const coder = await loadAgentProgram(path.join(repoRoot, "agents/coder"));
    const offered = toolsFor(coder.manifest.tools.allow).map((tool) => tool.name);
    expect(offered).toEqual(coder.manifest.tools.allow.filter((name) => availableToolNames().includes(name)));
    const mac = await loadAgentProgram(path.join(repoRoot, "agents/mac-assistant"));
    expect(toolsFor(mac.manifest.tools.allow).map((tool) => tool.name)).toEqual(
      expect.arrayContaining(["open_url", "run_applescript", "run_shortcut", "list_apps", "take_screenshot"]),
    );
  });
});

describe("agent.yml validation", () => {
  const cases: [string, string, string][] = [
    ["a missing name", "description: x\n", "agent.yml: name: is required"],
    ["an empty name", "name: '  '\n", "agent.yml: name: must not be empty"],
    ["a name that is not text", "name: [a]\n", "agent.yml: name: must be a string"],
    [
      "model.prefer as one string",
      "name: A\nmodel:\n  prefer: gpt\n",
      "agent.yml: model.prefer: must be a list of strings",
    ],
    [
      "model.prefer with a number",
      "name: A\nmodel:\n  prefer: [a, 1]\n",
      "agent.yml: model.prefer: must be a list of strings",
    ],
    ["model as a list", "name: A\nmodel: [a]\n", "agent.yml: model: must be a mapping"],
    [
      "tools.allow with a bad name",
      "name: A\ntools:\n  allow: [Memory Search]\n",
      "agent.yml: tools.allow: must be tool names like memory_search",
    ],
    [
      "an unknown persona router",
      "name: A\npersonas:\n  router: random\n",
      "agent.yml: personas.router: must be auto, explicit or hook",
    ],
    [
      "a non-boolean capability",
      "name: A\ncapabilities:\n  self_modify: sure\n",
      "agent.yml: capabilities.self_modify: must be true or false",
    ],
    ["args as a list", "name: A\nargs: [1]\n", "agent.yml: args: must be a mapping"],
    ["a list at the top", "- name: A\n", "agent.yml: must be a mapping of keys to values"],
  ];
  it.each(cases)("names the file and field for %s", async (_, manifest, message) => {
    expect(await loadError(writeProgram({ "agent.yml": manifest }))).toBe(message);
  });

  it("reports YAML syntax errors with their line", async () => {
    const message = await loadError(writeProgram({ "agent.yml": "name: A\ntools: [a, b\nmodel: x\n" }));
    expect(message).toMatch(/^agent\.yml: line \d+: /);
  });

  it("refuses duplicate keys", async () => {
    expect(await loadError(writeProgram({ "agent.yml": "name: A\nname: B\n" }))).toMatch(
      /^agent\.yml: line 2: .*unique/i,
    );
  });

  it("tolerates unknown keys and reports them as warnings", async () => {
    const folder = writeProgram({
      "agent.yml": "name: A\nrouter_v2: on\ntools:\n  alow: [memory_search]\npersonas:\n  default: coach\n",
    });
    const definition = await loadAgentProgram(folder);
    expect(definition.manifest.tools.allow).toEqual([]);
    expect(definition.manifest.personas).toEqual({ default: "coach", available: [], router: "explicit" });
    expect(definition.warnings).toEqual([
      "agent.yml: tools.alow: unknown key, ignored",
      "agent.yml: router_v2: unknown key, ignored",
    ]);
  });

  it("says when agent.yml or the folder is missing", async () => {
    expect(await loadError(writeProgram({ "AGENT.md": "hi" }))).toBe("agent.yml: is missing");
    expect(await loadError(path.join(tempFolder(), "nowhere"))).toBe("the agent folder does not exist");
  });
});

describe("program files", () => {
  it("refuses a symlink that leads outside the folder", async () => {
    const outside = writeProgram({ "secret.txt": "key=hunter2" });
    const folder = writeProgram({ "agent.yml": "name: A\n" });
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(folder, "SOUL.md"));
    expect(await loadError(folder)).toBe("SOUL.md: points outside its folder");
  });

  it("follows a symlink that stays inside the folder", async () => {
    const folder = writeProgram({ "agent.yml": "name: A\n", "docs/soul.md": "Kind." });
    fs.symlinkSync("docs/soul.md", path.join(folder, "SOUL.md"));
    expect((await loadAgentProgram(folder)).instructions.soul).toBe("Kind.");
  });

  it("refuses folders, FIFOs and oversized files instead of hanging or reading them", async () => {
    const folder = writeProgram({ "agent.yml": "name: A\n" });
    fs.mkdirSync(path.join(folder, "AGENT.md"));
    expect(await loadError(folder)).toBe("AGENT.md: is not a regular file");
    fs.rmdirSync(path.join(folder, "AGENT.md"));
    execFileSync("mkfifo", [path.join(folder, "USER.md")]);
    expect(await loadError(folder)).toBe("USER.md: is not a regular file");
    fs.rmSync(path.join(folder, "USER.md"));
    fs.writeFileSync(path.join(folder, "SOUL.md"), "x".repeat(513 * 1024));
    expect(await loadError(folder)).toBe("SOUL.md: is larger than 512 KB");
  });

  it("gives up after the timeout with a clear error", async () => {
    // Enough files that reading them takes far longer than 1 ms.
    const files: Record<string, string> = { "agent.yml": "name: A\n" };
    for (let i = 0; i < 150; i++) files[`skills/s${i}/SKILL.md`] = skill(`s${i}`, `Skill ${i}.`);
    const folder = writeProgram(files);
    const error = await loadAgentProgram(folder, { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentProgramError);
    expect((error as Error).message).toBe(
      "loading the agent program took longer than 1 ms (is its folder on a slow or unavailable disk?)",
    );
    expect((await loadAgentProgram(folder)).skills).toHaveLength(150);
  });

  it("stops when the caller aborts", async () => {
    const folder = writeProgram({ "agent.yml": "name: A\n" });
    const controller = new AbortController();
    controller.abort(new Error("run canceled"));
    await expect(loadAgentProgram(folder, { signal: controller.signal })).rejects.toThrow("run canceled");
  });
});

describe("skills index", () => {
  it("skips broken skills with a warning naming the file and field", async () => {
    const outside = writeProgram({ "SKILL.md": skill("escape", "Outside.") });
    const folder = writeProgram({
      "agent.yml": "name: A\n",
      "skills/good/SKILL.md": skill("good", "Works."),
      "skills/no-frontmatter/SKILL.md": "Just text.",
      "skills/no-description/SKILL.md": "---\nname: no-description\n---\nBody",
      "skills/renamed/SKILL.md": skill("other-name", "Mismatch."),
      "skills/Bad_Name/SKILL.md": skill("Bad_Name", "Bad."),
      "skills/not-a-skill/readme.txt": "no SKILL.md here",
      "skills/stray-file.md": "ignored",
    });
    fs.symlinkSync(outside, path.join(folder, "skills/escape"));
    const definition = await loadAgentProgram(folder);
    expect(definition.skills.map((s) => s.name)).toEqual(["good"]);
    expect(definition.warnings).toEqual([
      "skills/Bad_Name/SKILL.md: name: must be lowercase letters, digits and single hyphens (skill skipped)",
      "skills/escape/SKILL.md: points outside its folder (skill skipped)",
      "skills/no-description/SKILL.md: description: is required (skill skipped)",
      "skills/no-frontmatter/SKILL.md: must start with YAML frontmatter between --- lines (skill skipped)",
      'skills/renamed/SKILL.md: name: must match the folder name "renamed" (skill skipped)',
    ]);
  });
});

describe("the system prompt template", () => {
  const template = [
    "{{ agent.name }} / {{ agent.description }} / {{ agent.extra }}",
    "user={{ user.name }} conversation={{ conversation.id }} turn={{ turn.id }}",
    "persona={{ persona.name }} fact={{ facts.workspace }} tone={{ args.tone }} mood={{ args.mood }}",
    "missing=[{{ nothing.here }}]",
    "{% render 'footer.liquid', who: user.name %}",
  ].join("\n");

  it("renders every variable, merges defaults, and leaves unknown ones empty", async () => {
    const folder = writeProgram({
      "agent.yml": MANIFEST,
      "prompts/system.md.liquid": template,
      "prompts/footer.liquid": "Bye {{ who }}.",
    });
    const definition = await loadAgentProgram(folder);
    const variables = {
      agent: { extra: "x" },
      user: { name: "Ada" },
      conversation: { id: "c1" },
      turn: { id: "t1" },
      persona: { name: "coach" },
      facts: { workspace: "/src" },
      args: { mood: "sunny" },
    };
    const rendered = renderSystemPrompt(definition, variables);
    expect(rendered).toBe(
      [
        "Test Agent / Answers test questions. / x",
        "user=Ada conversation=c1 turn=t1",
        "persona=coach fact=/src tone=plain mood=sunny",
        "missing=[]",
        "Bye Ada.",
      ].join("\n"),
    );
    // Byte-identical on every render and every reload while nothing changed: the prompt prefix stays cacheable.
    expect(renderSystemPrompt(await loadAgentProgram(folder), variables)).toBe(rendered);
  });

  it("reads nothing outside prompts/ and no prototype properties", async () => {
    const folder = writeProgram({
      "agent.yml": "name: A\n",
      "prompts/system.md.liquid": "[{{ user.constructor }}][{{ user.name.length }}]{% include '../agent.yml' %}",
    });
    const definition = await loadAgentProgram(folder);
    expect(() => renderSystemPrompt(definition, { user: { name: "Ada" } })).toThrow(
      /^prompts\/system\.md\.liquid: line 1: Failed to lookup "\.\.\/agent\.yml"/,
    );
  });

  it("reports template syntax errors and unknown filters at load, with their line", async () => {
    const syntax = writeProgram({ "agent.yml": "name: A\n", "prompts/system.md.liquid": "ok\n{% if %}\n{% endif %}" });
    expect(await loadError(syntax)).toMatch(/^prompts\/system\.md\.liquid: line 2: /);
    const filter = writeProgram({ "agent.yml": "name: A\n", "prompts/system.md.liquid": "{{ agent.name | shout }}" });
    expect(await loadError(filter)).toBe("prompts/system.md.liquid: line 1: undefined filter: shout");
  });
});

describe("reading fresh, parsing once", () => {
  it("sees an edit on the next load, even one of the same size within the same second", async () => {
    const folder = writeProgram({ "agent.yml": "name: A\n", "SOUL.md": "Calm." });
    expect((await loadAgentProgram(folder)).instructions.soul).toBe("Calm.");
    fs.writeFileSync(path.join(folder, "SOUL.md"), "Loud.");
    expect((await loadAgentProgram(folder)).instructions.soul).toBe("Loud.");
    fs.writeFileSync(path.join(folder, "agent.yml"), "name: B\n");
    expect((await loadAgentProgram(folder)).manifest.name).toBe("B");
    fs.rmSync(path.join(folder, "SOUL.md"));
    expect((await loadAgentProgram(folder)).instructions.soul).toBeNull();
  });

  it("reuses parsed files while they are unchanged and re-parses the one that changed", async () => {
    const folder = writeProgram({
      "agent.yml": MANIFEST,
      "prompts/system.md.liquid": "Hi {{ user.name }}.",
      "skills/alpha/SKILL.md": skill("alpha", "First."),
    });
    for (const file of ["agent.yml", "prompts/system.md.liquid", "skills/alpha/SKILL.md"]) age(path.join(folder, file));
    const first = await loadAgentProgram(folder);
    const second = await loadAgentProgram(folder);
    expect(second.manifest).toBe(first.manifest);
    expect(second.templates).toBe(first.templates);

    // Same size, and the old timestamps put back: the change of inode metadata still gives it away.
    const manifestFile = path.join(folder, "agent.yml");
    const before = fs.statSync(manifestFile);
    fs.writeFileSync(manifestFile, MANIFEST.replace("Test Agent", "Best Agent"));
    fs.utimesSync(manifestFile, before.atime, before.mtime);
    const third = await loadAgentProgram(folder);
    expect(third.manifest).not.toBe(first.manifest);
    expect(third.manifest.name).toBe("Best Agent");
    expect(third.templates).toBe(first.templates);

    fs.writeFileSync(path.join(folder, "prompts/system.md.liquid"), "Hello {{ user.name }}.");
    const fourth = await loadAgentProgram(folder);
    expect(fourth.templates).not.toBe(first.templates);
    expect(renderSystemPrompt(fourth, { user: { name: "Ada" } })).toBe("Hello Ada.");
  });
});

function git(folder: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], {
    cwd: folder,
    encoding: "utf8",
  }).trim();
}

describe("reusing the last load", () => {
  afterEach(() => vi.useRealTimers());

  /** Moves the clock on, as between two turns: what was just written is no longer inside the racy window. */
  function later(): void {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10_000);
  }

  it("answers the same definition while nothing it read has changed, and sees every kind of change", async () => {
    const folder = writeProgram({
      "agent.yml": MANIFEST,
      "SOUL.md": "Calm.",
      "prompts/system.md.liquid": "Hi {{ user.name }}.",
      "skills/alpha/SKILL.md": skill("alpha", "First."),
    });
    later();
    const first = await loadAgentProgram(folder);
    expect(await loadAgentProgram(folder)).toBe(first);

    fs.writeFileSync(path.join(folder, "SOUL.md"), "Loud.");
    const edited = await loadAgentProgram(folder);
    expect(edited.instructions.soul).toBe("Loud.");
    later();
    expect(await loadAgentProgram(folder)).toBe(edited);

    fs.writeFileSync(path.join(folder, "AGENT.md"), "New rules.");
    expect((await loadAgentProgram(folder)).instructions.agent).toBe("New rules.");
    writeProgram({ "skills/beta/SKILL.md": skill("beta", "Second.") }, folder);
    expect((await loadAgentProgram(folder)).skills.map((s) => s.name)).toEqual(["alpha", "beta"]);
    fs.writeFileSync(path.join(folder, "skills/alpha/SKILL.md"), skill("alpha", "Changed."));
    expect((await loadAgentProgram(folder)).skills[0]!.description).toBe("Changed.");
    fs.writeFileSync(path.join(folder, "prompts/system.md.liquid"), "Hello {{ user.name }}.");
    expect(renderSystemPrompt(await loadAgentProgram(folder), { user: { name: "Ada" } })).toBe("Hello Ada.");

    git(folder, "init", "-q");
    git(folder, "add", "-A");
    git(folder, "commit", "-q", "-m", "first");
    later();
    expect((await loadAgentProgram(folder)).gitCommit).toBe(git(folder, "rev-parse", "HEAD"));
    fs.writeFileSync(path.join(folder, "USER.md"), "Ada.");
    git(folder, "add", "-A");
    git(folder, "commit", "-q", "-m", "second");
    expect((await loadAgentProgram(folder)).gitCommit).toBe(git(folder, "rev-parse", "HEAD"));

    const outside = writeProgram({ "secret.md": "Do not read." });
    fs.rmSync(path.join(folder, "SOUL.md"));
    fs.symlinkSync(path.join(outside, "secret.md"), path.join(folder, "SOUL.md"));
    expect(await loadError(folder)).toMatch(/SOUL\.md.*points outside its folder/);
  });

  it("answers without a check for edits older than its last check, and checks for anything newer", async () => {
    const folder = writeProgram({ "agent.yml": MANIFEST, "SOUL.md": "Calm." });
    later();
    const checkedAt = Date.now();
    const first = await loadAgentProgram(folder);
    fs.writeFileSync(path.join(folder, "SOUL.md"), "Loud.");
    vi.setSystemTime(Date.now() + 5);
    // Asked only for edits made before the last check started: the last load still answers, unchecked.
    expect(await loadAgentProgram(folder, { changesBefore: checkedAt })).toBe(first);
    // Edits up to now must show: a check finds the change.
    const edited = await loadAgentProgram(folder, { changesBefore: Date.now() });
    expect(edited.instructions.soul).toBe("Loud.");
  });

  it("does not vouch for a load that read files modified moments before", async () => {
    const folder = writeProgram({ "agent.yml": MANIFEST });
    const first = await loadAgentProgram(folder);
    expect(await loadAgentProgram(folder)).not.toBe(first);
  });
});

describe("git HEAD", () => {
  it("is the folder's HEAD commit when it is a repository's root, and follows new commits", async () => {
    const folder = writeProgram({ "agent.yml": "name: A\n" });
    git(folder, "init", "-q");
    expect((await loadAgentProgram(folder)).gitCommit).toBeNull(); // no commit yet
    git(folder, "add", "-A");
    git(folder, "commit", "-q", "-m", "first");
    expect((await loadAgentProgram(folder)).gitCommit).toBe(git(folder, "rev-parse", "HEAD"));
    fs.writeFileSync(path.join(folder, "SOUL.md"), "Calm.");
    git(folder, "add", "-A");
    git(folder, "commit", "-q", "-m", "second");
    git(folder, "pack-refs", "--all");
    expect((await loadAgentProgram(folder)).gitCommit).toBe(git(folder, "rev-parse", "HEAD"));
    git(folder, "checkout", "-q", "--detach", "HEAD~1");
    expect((await loadAgentProgram(folder)).gitCommit).toBe(git(folder, "rev-parse", "HEAD"));
  });

  it("is null for a folder inside someone else's repository", async () => {
    const outer = writeProgram({ "agent/agent.yml": "name: A\n" });
    git(outer, "init", "-q");
    git(outer, "add", "-A");
    git(outer, "commit", "-q", "-m", "outer");
    expect((await loadAgentProgram(path.join(outer, "agent"))).gitCommit).toBeNull();
  });
});
