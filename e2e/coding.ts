import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Api } from "./api";

/** What the coding-tool tests share: an agent allowed the coding tools, temporary repositories, mock tool calls. */

export const CODER_YML = `name: Coder
description: Works in a folder with the coding tools.
model:
  prefer: []
tools:
  allow: [workspace_set, bash, read_file, edit_file]
args: {}
`;

const made: string[] = [];

/** Removes the folders made by tempFolder and tempRepo (a spec's afterAll). */
export function removeTempFolders() {
  for (const folder of made.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
}

/** A temporary folder (its real path: the workspace is stored as `pwd -P` says it). */
export function tempFolder(prefix: string): string {
  const folder = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(folder);
  return folder;
}

/** A git repository with one committed file, notes.txt. */
export function tempRepo(): string {
  const repo = tempFolder("cybros-e2e-repo-");
  fs.writeFileSync(path.join(repo, "notes.txt"), "Buy milk\nCall the plumber\n");
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=e2e", "-c", "user.email=e2e@example.com", ...args], { cwd: repo });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "notes");
  return repo;
}

/** The server's own Nexus is named after its host. */
export async function localTerritoryName(api: Api): Promise<string> {
  const { territories } = await api.call<{ territories: { name: string; local: boolean }[] }>(
    "GET",
    "/api/territories",
  );
  return territories.find((t) => t.local)!.name;
}

/** A message that has the mock LLM call one tool with these arguments (docs/mock-llm.md). */
export const call = (name: string, args: Record<string, unknown>) =>
  `/mock tool_calls\n${name} ${JSON.stringify(args)}`;
