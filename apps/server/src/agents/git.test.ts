import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAgentChange } from "./git.js";

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agent-git-"));
  git("init", "-q");
  fs.writeFileSync(path.join(folder, "SOUL.md"), "calm\n");
  fs.writeFileSync(path.join(folder, "USER.md"), "someone\n");
  git("add", "-A");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first");
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
}

describe("commitAgentChange", () => {
  it("commits only the given paths, recording who made the change", async () => {
    fs.writeFileSync(path.join(folder, "SOUL.md"), "concise\n");
    fs.writeFileSync(path.join(folder, "USER.md"), "changed on disk\n");
    const sha = await commitAgentChange(
      { localPath: folder },
      { paths: ["SOUL.md"], message: "Edit SOUL.md", author: "person" },
    );
    expect(sha).toBe(git("rev-parse", "HEAD"));
    expect(git("log", "-1", "--format=%an|%s|%(trailers:key=Cybros-Author,valueonly)")).toBe(
      "Cybros (person)|Edit SOUL.md|person",
    );
    expect(git("show", "--name-only", "--format=", "HEAD")).toBe("SOUL.md");
    expect(git("status", "--porcelain")).toBe("M USER.md");
  });

  it("commits every change, deletions included, and answers null when nothing changed", async () => {
    fs.rmSync(path.join(folder, "USER.md"));
    fs.writeFileSync(path.join(folder, "notes.md"), "new\n");
    expect(
      await commitAgentChange({ localPath: folder }, { paths: "all", message: "Tidy", author: "agent" }),
    ).not.toBeNull();
    expect(git("status", "--porcelain")).toBe("");
    expect(git("log", "-1", "--format=%an")).toBe("Cybros (agent)");
    expect(
      await commitAgentChange({ localPath: folder }, { paths: "all", message: "Again", author: "agent" }),
    ).toBeNull();
  });

  it("serializes concurrent commits on one folder", async () => {
    fs.writeFileSync(path.join(folder, "a.md"), "a\n");
    fs.writeFileSync(path.join(folder, "b.md"), "b\n");
    const [a, b] = await Promise.all([
      commitAgentChange({ localPath: folder }, { paths: ["a.md"], message: "A", author: "person" }),
      commitAgentChange({ localPath: folder }, { paths: ["b.md"], message: "B", author: "person" }),
    ]);
    expect(a).not.toBe(b);
    expect(git("log", "--format=%s")).toBe("B\nA\nfirst");
  });
});
