import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { agentCommitDiff, agentFileList, agentHistory, agentStatus } from "@cybros/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";

let server: TestServer;
let client: TestClient;
let agentId: string;
let folder: string;
beforeEach(async () => {
  ({ server, client } = await startSignedIn());
  const created = await client.post("/api/agents", { name: "Editable", profile: "default-assistant" });
  agentId = (await created.json()).id;
  folder = (await (await client.get(`/api/agents/${agentId}`)).json()).localPath;
});
afterEach(async () => {
  await server.close();
});

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
}

const api = (suffix = "") => `/api/agents/${agentId}${suffix}`;

describe("agent files", () => {
  it("lists every file but .git, and reads one", async () => {
    const list = agentFileList.parse(await (await client.get(api("/files"))).json());
    expect(list.editable).toBe(true);
    expect(list.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(["agent.yml", "SOUL.md", "prompts/system.md.liquid", "skills/web-research/SKILL.md"]),
    );
    expect(list.files.some((f) => f.path.startsWith(".git"))).toBe(false);
    const soul = await (await client.get(api("/files/SOUL.md"))).json();
    expect(soul.content).toBe(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8"));
  });

  it("saves a file as a commit by a person, with the typed message or a default one", async () => {
    const saved = await client.put(api("/files/SOUL.md"), { content: "Be concise.\n", message: "Shorter answers" });
    expect(saved.status).toBe(200);
    const { commit } = await saved.json();
    expect(commit).toBe(git("rev-parse", "HEAD"));
    expect(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8")).toBe("Be concise.\n");
    await client.put(api("/files/notes/new.md"), { content: "hello\n" });
    const { commits } = agentHistory.parse(await (await client.get(api("/history"))).json());
    expect(commits.map((c) => [c.subject, c.author])).toEqual([
      ["Edit notes/new.md", "person"],
      ["Shorter answers", "person"],
      [expect.stringMatching(/^Create Editable/), "other"],
    ]);
    // The agent's page shows the new version.
    expect((await (await client.get(api())).json()).gitCommit).toBe(commits[0]!.sha);
  });

  it("refuses an invalid save with the file, line and reason, and changes nothing", async () => {
    const before = fs.readFileSync(path.join(folder, "agent.yml"), "utf8");
    const head = git("rev-parse", "HEAD");
    const badSchema = await client.put(api("/files/agent.yml"), { content: "name: X\nmodel:\n  prefer: 3\n" });
    expect(badSchema.status).toBe(422);
    expect((await badSchema.json()).error.fields.content).toBe(
      "agent.yml: line 3: model.prefer: must be a list of strings",
    );
    const badYaml = await client.put(api("/files/agent.yml"), { content: "name: [unclosed\n" });
    expect((await badYaml.json()).error.fields.content).toMatch(/^agent\.yml: line \d+: /);
    const badLiquid = await client.put(api("/files/prompts/system.md.liquid"), { content: "{% if %}\n" });
    expect(badLiquid.status).toBe(422);
    expect((await badLiquid.json()).error.fields.content).toMatch(/system\.md\.liquid/);
    const badTool = await client.put(api("/files/tools/roll_dice.yml"), {
      content: "description: Roll\nparameters: {\n",
    });
    expect((await badTool.json()).error.fields.content).toMatch(/^tools\/roll_dice\.yml: line \d+: /);
    const badToolSchema = await client.put(api("/files/tools/roll_dice.yml"), {
      content: "description: Roll\nparameters:\n  type: string\n",
    });
    expect(badToolSchema.status).toBe(422);
    expect((await badToolSchema.json()).error.fields.content).toBe(
      "tools/roll_dice.yml: parameters.type: must have type: object (the arguments are one JSON object)",
    );
    expect(fs.existsSync(path.join(folder, "tools"))).toBe(false);
    expect(fs.readFileSync(path.join(folder, "agent.yml"), "utf8")).toBe(before);
    expect(git("rev-parse", "HEAD")).toBe(head);
    expect(git("status", "--porcelain")).toBe("");
  });

  it("refuses paths that leave the folder or touch .git, and writes nothing outside it", async () => {
    // A folder of the test's own stands for the rest of the machine: a failed refusal must not write into /etc.
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-outside-"));
    try {
      fs.writeFileSync(path.join(outside, "passwd"), "original\n");
      fs.symlinkSync(outside, path.join(folder, "outside"));
      fs.symlinkSync(path.join(outside, "passwd"), path.join(folder, "linked.md"));
      const bad = ["..%2Fescape.md", ".git%2Fconfig", "outside%2Fpasswd", "outside%2Fnew%2Fx.md", "a%2F..%2F..%2Fb.md"];
      for (const name of bad) {
        const read = await client.get(api(`/files/${name}`));
        const write = await client.put(api(`/files/${name}`), { content: "x" });
        // A path that does not exist outside is simply not found; no write is ever let through.
        expect([[404, 422].includes(read.status), write.status], name).toEqual([true, 422]);
      }
      const linked = await client.put(api("/files/linked.md"), { content: "x" });
      expect(linked.status).toBe(422);
      expect(fs.readFileSync(path.join(outside, "passwd"), "utf8")).toBe("original\n");
      expect(fs.readdirSync(outside)).toEqual(["passwd"]);
      expect(fs.existsSync(path.join(folder, "..", "escape.md"))).toBe(false);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("leaves bundled agents read-only", async () => {
    const bundled = (await (await client.get("/api/agents")).json()).agents.find(
      (a: { bundled: boolean }) => a.bundled,
    );
    expect((await (await client.get(`/api/agents/${bundled.id}/files`)).json()).editable).toBe(false);
    const save = await client.put(`/api/agents/${bundled.id}/files/SOUL.md`, { content: "x" });
    expect(save.status).toBe(403);
    expect((await client.delete(`/api/agents/${bundled.id}`)).status).toBe(403);
    expect((await (await client.get(`/api/agents/${bundled.id}/history`)).json()).commits).toEqual([]);
  });
});

describe("changes on disk", () => {
  it("shows an edit made on disk, commits it, or discards it", async () => {
    fs.writeFileSync(path.join(folder, "SOUL.md"), "edited on disk\n");
    fs.writeFileSync(path.join(folder, "extra.md"), "new\n");
    const status = agentStatus.parse(await (await client.get(api("/status"))).json());
    expect(status.head).toBe(git("rev-parse", "HEAD"));
    expect(status.changes).toEqual([
      { path: "SOUL.md", change: "modified" },
      { path: "extra.md", change: "added" },
    ]);

    const discarded = await client.delete(api("/changes"));
    expect(discarded.status).toBe(204);
    expect(fs.existsSync(path.join(folder, "extra.md"))).toBe(false);
    expect(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8")).not.toBe("edited on disk\n");

    fs.writeFileSync(path.join(folder, "SOUL.md"), "edited on disk\n");
    expect((await client.post(api("/commits"), { message: "" })).status).toBe(422);
    const committed = await client.post(api("/commits"), { message: "Keep my disk edit" });
    expect(committed.status).toBe(201);
    expect(git("log", "-1", "--format=%s %an")).toBe("Keep my disk edit Cybros (person)");
    expect((await (await client.get(api("/status"))).json()).changes).toEqual([]);
  });
});

describe("versions", () => {
  it("shows a commit's diff and reverts it with a new commit", async () => {
    const original = fs.readFileSync(path.join(folder, "SOUL.md"), "utf8");
    const { commit } = await (await client.put(api("/files/SOUL.md"), { content: "Be concise.\n" })).json();
    const diff = agentCommitDiff.parse(await (await client.get(api(`/history/${commit}`))).json());
    expect(diff.commit).toMatchObject({ sha: commit, subject: "Edit SOUL.md", author: "person" });
    expect(diff.diff).toContain("+++ b/SOUL.md");
    expect(diff.diff).toContain("+Be concise.");

    const reverted = await client.post(api("/reverts"), { commit });
    expect(reverted.status).toBe(201);
    const revertSha = (await reverted.json()).commit;
    expect(revertSha).toBe(git("rev-parse", "HEAD"));
    expect(fs.readFileSync(path.join(folder, "SOUL.md"), "utf8")).toBe(original);
    const { commits } = await (await client.get(api("/history"))).json();
    expect(commits[0]).toMatchObject({ sha: revertSha, subject: 'Revert "Edit SOUL.md"', author: "revert" });
    expect(commits).toHaveLength(3);
  });

  it("refuses to revert over changes on disk, the first version, or an unknown commit", async () => {
    const { commit } = await (await client.put(api("/files/SOUL.md"), { content: "v2\n" })).json();
    fs.writeFileSync(path.join(folder, "USER.md"), "dirty\n");
    expect((await client.post(api("/reverts"), { commit })).status).toBe(409);
    await client.delete(api("/changes"));
    const first = git("rev-list", "--max-parents=0", "HEAD");
    expect((await client.post(api("/reverts"), { commit: first })).status).toBe(409);
    expect((await client.post(api("/reverts"), { commit: "0".repeat(40) })).status).toBe(404);
    expect((await client.post(api("/reverts"), { commit: "HEAD" })).status).toBe(422);
    expect((await client.get(api("/history/nothex"))).status).toBe(404);
  });
});

describe("deleting an agent", () => {
  it("keeps its conversations readable, frees its name, and hides it from lists", async () => {
    const conversation = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
    expect((await client.delete(api())).status).toBe(204);
    expect(fs.existsSync(folder)).toBe(false);
    expect((await client.get(api())).status).toBe(404);
    const names = (await (await client.get("/api/agents")).json()).agents.map((a: { name: string }) => a.name);
    expect(names).not.toContain("Editable");

    const read = await client.get(`/api/conversations/${conversation.id}`);
    expect(read.status).toBe(200);
    expect((await read.json()).conversation.agentName).toBe("Editable");
    const again = await client.post("/api/agents", { name: "Editable", profile: "default-assistant" });
    expect(again.status).toBe(201);
    expect((await client.post("/api/conversations", { agentProgramId: agentId })).status).toBe(422);
  });
});
