import fs from "node:fs/promises";
import path from "node:path";
import type {
  AgentCommit,
  AgentCommitAuthor,
  AgentCommitDiff,
  AgentFileContent,
  AgentFileList,
  AgentStatus,
  SaveAgentFileInput,
} from "@cybros/protocol";
import { eq } from "drizzle-orm";
import YAML from "yaml";
import { agentPrograms } from "../db/schema.js";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../errors.js";
import type { Services } from "../services.js";
import { isCustomToolFile, parseCustomToolDefinition } from "./custom-tools.js";
import { AgentProgramError } from "./errors.js";
import { MAX_PROGRAM_FILE_BYTES, normalizeText, resolveInside, writableInside } from "./files.js";
import {
  AGENT_CHANGE_AUTHORS,
  type AgentChangeAuthor,
  AUTHOR_TRAILER,
  agentGit,
  commitAgentChange,
  inAgentRepo,
  revertCommitNow,
} from "./git.js";
import type { AgentProgram } from "./index.js";
import { loadAgentProgram, renderSystemPrompt } from "./loader.js";
import { MANIFEST_FILE, parseYaml, yamlSyntaxError } from "./manifest.js";

/**
 * An agent's files and versions: list, read and save files (validated, then committed), see and commit or
 * discard changes made on disk, history, one commit's diff, revert, delete. Every path is confined to the agent
 * folder; bundled agents are read-only.
 */

const MAX_LISTED_FILES = 2_000;
const MAX_HISTORY = 200;
const MAX_DIFF_CHARS = 256 * 1024;

function ensureEditable(program: AgentProgram): void {
  if (program.bundled) throw new ForbiddenError("Bundled agents are read-only: create a copy to edit it", "read_only");
}

/** A path the person named, checked before it touches the disk: relative, no `..`, nothing under .git. */
function checkedPath(relative: string): string {
  const clean = relative.replace(/\\/g, "/").replace(/^\/+/, "");
  const segments = clean.split("/");
  if (!clean || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new ValidationError({ path: "must be a relative path without `..`" });
  }
  if (segments.some((s) => s.toLowerCase() === ".git")) throw new ValidationError({ path: "must not be inside .git" });
  return clean;
}

async function realFolder(program: AgentProgram): Promise<string> {
  return fs.realpath(program.localPath).catch(() => {
    throw new NotFoundError("Agent folder");
  });
}

/** Only a folder that is itself a repository's root has versions; a bundled agent inside the app's repo has none. */
async function isRepositoryRoot(folder: string): Promise<boolean> {
  return (await fs.stat(path.join(folder, ".git")).catch(() => null)) !== null;
}

export async function listAgentFiles(program: AgentProgram): Promise<AgentFileList> {
  const root = await realFolder(program);
  const files: AgentFileList["files"] = [];
  async function walk(relative: string): Promise<void> {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_FILES || entry.name === ".git") continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(child);
      } else if (entry.isFile()) {
        files.push({ path: child, size: (await fs.stat(path.join(root, child))).size });
      } else if (entry.isSymbolicLink()) {
        // A link is listed only when it leads to a file inside the folder.
        const real = await resolveInside(root, child).catch(() => null);
        const stat = real ? await fs.stat(real) : null;
        if (stat?.isFile()) files.push({ path: child, size: stat.size });
      }
    }
  }
  await walk("");
  return { files, editable: !program.bundled };
}

async function resolveFile(root: string, relative: string): Promise<string | null> {
  try {
    return await resolveInside(root, relative);
  } catch (error) {
    if (error instanceof AgentProgramError) throw new ValidationError({ path: error.reason });
    throw error;
  }
}

export async function readAgentFile(program: AgentProgram, relative: string): Promise<AgentFileContent> {
  const file = checkedPath(relative);
  const real = await resolveFile(await realFolder(program), file);
  const stat = real ? await fs.stat(real) : null;
  if (!real || !stat?.isFile()) throw new NotFoundError("File");
  if (stat.size > MAX_PROGRAM_FILE_BYTES) return { path: file, content: null, editable: false };
  const bytes = await fs.readFile(real);
  const binary = bytes.includes(0);
  return { path: file, content: binary ? null : bytes.toString("utf8"), editable: !program.bundled && !binary };
}

/**
 * Saves one file: the whole program is first loaded from a scratch copy with the new content (agent.yml
 * validates, the system prompt renders, every YAML file parses), so an invalid save changes nothing on disk.
 */
export async function saveAgentFile(
  services: Services,
  program: AgentProgram,
  relative: string,
  input: SaveAgentFileInput,
): Promise<string | null> {
  ensureEditable(program);
  const file = checkedPath(relative);
  const root = await realFolder(program);
  const content = normalizeText(input.content);
  // Checked before anything is written, here or in the scratch copy (whose links lead where the folder's do).
  const target = await writableInside(root, file);
  if (!target) throw new ValidationError({ path: "points outside its folder" });
  await validateWith(services, program, root, file, content);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, content);
  return commitAgentChange(program, { paths: [file], message: input.message || `Edit ${file}`, author: "person" });
}

async function validateWith(
  services: Services,
  program: AgentProgram,
  root: string,
  file: string,
  content: string,
): Promise<void> {
  // Every YAML file parses (agent.yml, tool definitions), whether or not the loader reads it.
  const yamlError = /\.ya?ml$/i.test(file) ? yamlSyntaxError(parseYaml(content)) : null;
  if (yamlError) throw new ValidationError({ content: `${file}: ${yamlError}` });
  // One scratch folder per agent, reused, so the loader's caches do not grow with every save; saves of one
  // agent take turns with it.
  const scratch = path.join(services.config.dataDir, "agent-scratch", program.id);
  await inAgentRepo(scratch, () => loadWithChange(root, scratch, file, content));
}

async function loadWithChange(root: string, scratch: string, file: string, content: string): Promise<void> {
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.cp(root, scratch, { recursive: true, filter: (source) => path.basename(source) !== ".git" });
  try {
    const target = await writableInside(scratch, file);
    if (!target) throw new ValidationError({ path: "points outside its folder" });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
    const definition = await loadAgentProgram(scratch);
    renderSystemPrompt(definition, {});
    // A tool definition is checked whether or not agent.yml lists it yet (the loader leaves a broken one out).
    if (isCustomToolFile(file)) parseCustomToolDefinition(content, file);
  } catch (error) {
    if (!(error instanceof AgentProgramError)) throw error;
    throw new ValidationError({ content: withLine(error, file === MANIFEST_FILE ? content : null) });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** The error's message, with the line of the agent.yml field it names when that field is written in the file. */
function withLine(error: AgentProgramError, manifestText: string | null): string {
  if (!manifestText || !error.field || /line \d+/.test(error.message)) return error.message;
  const lineCounter = new YAML.LineCounter();
  const document = YAML.parseDocument(manifestText, { lineCounter });
  const keys = error.field.split(".").map((key) => (/^\[\d+\]$/.test(key) ? Number(key.slice(1, -1)) : key));
  const node = document.getIn(keys, true) as { range?: [number, number, number] } | undefined;
  if (!node?.range) return error.message;
  return `${error.file}: line ${lineCounter.linePos(node.range[0]).line}: ${error.field}: ${error.reason}`;
}

export async function agentStatusOf(program: AgentProgram): Promise<AgentStatus> {
  const root = await realFolder(program);
  if (!(await isRepositoryRoot(root))) return { head: null, changes: [] };
  return inAgentRepo(program.localPath, async () => {
    const git = agentGit(root);
    const head = (await git.raw(["rev-parse", "--verify", "-q", "HEAD"]).catch(() => "")).trim() || null;
    const output = await git.raw(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
    const changes = output
      .split("\0")
      .filter((entry) => entry.length > 3)
      .map((entry) => {
        const code = entry.slice(0, 2);
        const change = code.includes("D") ? "deleted" : code === "??" || code.includes("A") ? "added" : "modified";
        return { path: entry.slice(3), change } as const;
      });
    return { head, changes };
  });
}

export async function commitChangesOnDisk(program: AgentProgram, message: string): Promise<string | null> {
  ensureEditable(program);
  return commitAgentChange(program, { paths: "all", message, author: "person" });
}

/** Puts the folder back to its last commit: edited files restored, new files removed (ignored ones kept). */
export async function discardChangesOnDisk(program: AgentProgram): Promise<void> {
  ensureEditable(program);
  await inAgentRepo(program.localPath, async () => {
    const git = agentGit(program.localPath);
    await git.raw(["reset", "--hard", "--quiet", "HEAD"]);
    await git.raw(["clean", "-d", "--force", "--quiet"]);
  });
}

const FIELD = "\x1f";
const RECORD = "\x1e";
const LOG_FORMAT = ["%H", "%an", "%cI", "%s", `%(trailers:key=${AUTHOR_TRAILER},valueonly,separator=%x2C)`].join(
  "%x1f",
);

function parseCommit(record: string): AgentCommit {
  const [sha, authorName, committedAt, subject, trailer] = record.replace(/^\n+/, "").split(FIELD);
  const kind = trailer?.trim() as AgentChangeAuthor;
  const author: AgentCommitAuthor = AGENT_CHANGE_AUTHORS.includes(kind) ? kind : "other";
  return { sha: sha!, authorName: authorName!, committedAt: committedAt!, subject: subject!, author };
}

export async function agentHistoryOf(program: AgentProgram): Promise<AgentCommit[]> {
  const root = await realFolder(program);
  if (!(await isRepositoryRoot(root))) return [];
  const output = await agentGit(root)
    .raw(["log", `-n${MAX_HISTORY}`, `--format=${LOG_FORMAT}%x1e`])
    .catch(() => "");
  return output
    .split(RECORD)
    .filter((record) => record.trim())
    .map(parseCommit);
}

async function findCommit(root: string, sha: string): Promise<AgentCommit> {
  const git = agentGit(root);
  const full = (await git.raw(["rev-parse", "--verify", "-q", `${sha}^{commit}`]).catch(() => "")).trim();
  if (!full) throw new NotFoundError("Version");
  // Only versions of this agent's own line of history.
  const reachable = await git.raw(["merge-base", "--is-ancestor", full, "HEAD"]).then(
    () => true,
    () => false,
  );
  if (!reachable) throw new NotFoundError("Version");
  return parseCommit(await git.raw(["show", "-s", `--format=${LOG_FORMAT}`, full]));
}

export async function agentCommitDiffOf(program: AgentProgram, sha: string): Promise<AgentCommitDiff> {
  const root = await realFolder(program);
  if (!(await isRepositoryRoot(root)) || !/^[0-9a-f]{7,64}$/.test(sha)) throw new NotFoundError("Version");
  const commit = await findCommit(root, sha);
  const diff = await agentGit(root).raw(["show", "--format=", "--patch", "--no-color", "--no-ext-diff", commit.sha]);
  const truncated = diff.length > MAX_DIFF_CHARS;
  return { commit, diff: truncated ? diff.slice(0, MAX_DIFF_CHARS) : diff, truncated };
}

/** Undoes one commit with a new one (author "revert"); refused while changes on disk are uncommitted. */
export async function revertAgentCommit(program: AgentProgram, sha: string): Promise<string | null> {
  ensureEditable(program);
  const root = await realFolder(program);
  if (!(await isRepositoryRoot(root))) throw new NotFoundError("Version");
  return inAgentRepo(program.localPath, async () => {
    const git = agentGit(root);
    const commit = await findCommit(root, sha);
    const dirty = await git.raw(["status", "--porcelain", "--untracked-files=all"]);
    if (dirty.trim()) {
      throw new ConflictError("uncommitted_changes", "Commit or discard the changes on disk before reverting");
    }
    const parents = (await git.raw(["rev-list", "--parents", "-n1", commit.sha])).trim().split(" ").length - 1;
    if (parents !== 1) throw new ConflictError("not_revertible", "The first version cannot be reverted");
    try {
      return await revertCommitNow(root, commit.sha);
    } catch {
      throw new ConflictError("revert_conflict", "Later versions changed the same lines; this one cannot be reverted");
    }
  });
}

/**
 * Deletes an agent: the row stays, marked deleted, so its conversations keep their agent's name and stay
 * readable; the folder moves to <data>/agents-deleted/<id>, out of the way of new agents, kept for recovery.
 */
export async function deleteAgent(services: Services, program: AgentProgram): Promise<void> {
  ensureEditable(program);
  await services.db.update(agentPrograms).set({ deletedAt: new Date() }).where(eq(agentPrograms.id, program.id));
  const trash = path.join(services.config.dataDir, "agents-deleted");
  await fs.mkdir(trash, { recursive: true });
  await fs.rename(program.localPath, path.join(trash, program.id)).catch((error) => {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  });
  services.log.info({ agentProgramId: program.id }, "agent program deleted");
}
