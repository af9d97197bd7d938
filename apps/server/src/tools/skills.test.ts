import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { runToolHere } from "../testing/tool-context.js";
import type { Tool, ToolContext } from "./define.js";
import { skillsListTool } from "./skills-list.js";
import { skillsLoadTool } from "./skills-load.js";
import { skillsReadFileTool } from "./skills-read-file.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function writeFolder(files: Record<string, string | Buffer>): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-skills-"));
  folders.push(folder);
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(folder, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return folder;
}

function skill(name: string, description: string, body: string): string {
  return `---\nname: ${name}\ndescription: ${description}\n---\n\n${body}\n`;
}

/** A program with two skills, one with resources, and one broken skill. */
function agentFolder(): string {
  return writeFolder({
    "agent.yml": "name: Skilled\n",
    "skills/trip-planning/SKILL.md": skill("trip-planning", "Plan a trip.", "Ask for dates first."),
    "skills/web-research/SKILL.md": skill("web-research", "Research with sources.", "Cite every claim."),
    "skills/web-research/references/checklist.md": "# Checklist\nPrimary sources first.",
    "skills/web-research/scripts/count.py": "print(1)\n",
    "skills/web-research/assets/logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]),
    "skills/web-research/.hidden": "not listed",
    "skills/broken/SKILL.md": "no frontmatter",
  });
}

async function context(localPath: string): Promise<ToolContext> {
  return {
    services: server.services,
    log: server.services.log,
    account: await defaultAccount(server.services.db),
    agent: { id: "0190a0a0-0000-7000-8000-000000000001", name: "Skilled", localPath },
    conversationId: "0190a0a0-0000-7000-8000-000000000002",
    signal: new AbortController().signal,
  };
}

async function run(tool: Tool, args: unknown, localPath: string) {
  return runToolHere(tool, args, await context(localPath));
}

describe("skills_list", () => {
  it("lists each skill's name and description, and says which were skipped and why", async () => {
    const result = await run(skillsListTool, {}, agentFolder());
    expect(result.isError).toBeUndefined();
    expect(result.output).toBe(
      [
        "- trip-planning: Plan a trip.",
        "- web-research: Research with sources.",
        "",
        "Skipped because of errors:",
        "- skills/broken/SKILL.md: must start with YAML frontmatter between --- lines (skill skipped)",
      ].join("\n"),
    );
    expect(result.summary).toBe("2 skills");
    expect(result.metadata).toMatchObject({ skills: ["trip-planning", "web-research"] });
  });

  it("says so when there are none, and when the agent folder is gone", async () => {
    expect((await run(skillsListTool, {}, writeFolder({ "agent.yml": "name: A\n" }))).output).toBe(
      "You have no skills.",
    );
    const gone = await run(skillsListTool, {}, path.join(os.tmpdir(), "cybros-no-such-agent"));
    expect(gone).toMatchObject({ isError: true, output: "the agent folder does not exist" });
  });
});

describe("skills_load", () => {
  it("answers the instructions and the skill's files", async () => {
    const result = await run(skillsLoadTool, { name: "web-research" }, agentFolder());
    expect(result.isError).toBeUndefined();
    expect(result.output).toBe(
      [
        "# Skill: web-research",
        "",
        "Cite every claim.",
        "",
        'Files in this skill (read one with skills_read_file {"name": "web-research", "path": "<path>"}):',
        "- assets/logo.png",
        "- references/checklist.md",
        "- scripts/count.py",
      ].join("\n"),
    );
    expect(result.metadata).toEqual({
      name: "web-research",
      files: ["assets/logo.png", "references/checklist.md", "scripts/count.py"],
    });
  });

  it("names the skills that exist when asked for one that does not", async () => {
    const result = await run(skillsLoadTool, { name: "cooking" }, agentFolder());
    expect(result).toMatchObject({
      isError: true,
      output: 'No skill named "cooking". Available skills: trip-planning, web-research.',
    });
    const broken = await run(skillsLoadTool, { name: "broken" }, agentFolder());
    expect(broken).toMatchObject({
      isError: true,
      output: "skills/broken/SKILL.md: must start with YAML frontmatter between --- lines",
    });
  });

  it("refuses names that are paths", async () => {
    for (const name of ["../secrets", "/etc", "web-research/../../x"]) {
      const result = await run(skillsLoadTool, { name }, agentFolder());
      expect(result.isError).toBe(true);
      expect(result.output).toBe("Invalid arguments: name: must be lowercase letters, digits and single hyphens");
    }
  });

  it("refuses a skill folder that is a symlink out of the agent", async () => {
    const outside = writeFolder({ "SKILL.md": skill("escape", "Outside.", "Secret instructions.") });
    const folder = agentFolder();
    fs.symlinkSync(outside, path.join(folder, "skills/escape"));
    const result = await run(skillsLoadTool, { name: "escape" }, folder);
    expect(result).toMatchObject({ isError: true, output: "skills/escape: points outside its folder" });
    expect(result.output).not.toContain("Secret");
  });
});

describe("skills_read_file", () => {
  const read = (args: { name: string; path: string }, folder: string) => run(skillsReadFileTool, args, folder);

  it("reads a text file inside the skill", async () => {
    const result = await read({ name: "web-research", path: "references/checklist.md" }, agentFolder());
    expect(result).toMatchObject({
      summary: "34 bytes",
      output: "# Checklist\nPrimary sources first.",
      metadata: { bytes: 34 },
    });
    expect(result.isError).toBeUndefined();
  });

  it("describes binary files instead of returning their bytes", async () => {
    const result = await read({ name: "web-research", path: "assets/logo.png" }, agentFolder());
    expect(result.output).toBe("assets/logo.png is a binary file (6 bytes); it cannot be shown as text.");
  });

  it("refuses `..`, absolute paths, folders and missing files", async () => {
    const folder = agentFolder();
    const cases: [string, string][] = [
      ["../trip-planning/SKILL.md", "../trip-planning/SKILL.md: must be a relative path without `..`"],
      ["references/../../../agent.yml", "references/../../../agent.yml: must be a relative path without `..`"],
      [path.join(folder, "agent.yml"), `${path.join(folder, "agent.yml")}: must be a relative path without \`..\``],
      ["/etc/passwd", "/etc/passwd: must be a relative path without `..`"],
      ["references", "references: is not a file"],
      ["references/missing.md", "references/missing.md: does not exist in this skill"],
    ];
    for (const [relative, message] of cases) {
      const result = await read({ name: "web-research", path: relative }, folder);
      expect(result).toMatchObject({ isError: true, output: message });
    }
  });

  it("refuses symlinks whose target is outside the skill, and follows ones that stay inside", async () => {
    const outside = writeFolder({ "secret.txt": "API_KEY=hunter2" });
    const folder = agentFolder();
    const skillDir = path.join(folder, "skills/web-research");
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(skillDir, "references/secret.md"));
    fs.symlinkSync(outside, path.join(skillDir, "linked"));
    // Inside the agent but outside this skill counts as outside too.
    fs.symlinkSync(path.join(folder, "agent.yml"), path.join(skillDir, "agent.yml"));
    fs.symlinkSync("checklist.md", path.join(skillDir, "references/alias.md"));

    for (const relative of ["references/secret.md", "linked/secret.txt", "agent.yml"]) {
      const result = await read({ name: "web-research", path: relative }, folder);
      expect(result).toMatchObject({ isError: true, output: `${relative}: points outside its folder` });
      expect(result.output).not.toContain("hunter2");
    }
    const inside = await read({ name: "web-research", path: "references/alias.md" }, folder);
    expect(inside.output).toBe("# Checklist\nPrimary sources first.");
  });

  it("refuses files over the size cap", async () => {
    const folder = agentFolder();
    fs.writeFileSync(path.join(folder, "skills/web-research/references/huge.md"), "x".repeat(256 * 1024 + 1));
    const result = await read({ name: "web-research", path: "references/huge.md" }, folder);
    expect(result).toMatchObject({
      isError: true,
      output: "references/huge.md: is 257 KB; files over 256 KB cannot be read",
    });
  });
});
