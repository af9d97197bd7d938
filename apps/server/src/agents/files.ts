import fs from "node:fs/promises";
import path from "node:path";
import { AgentProgramError } from "./errors.js";

/** A single program file bigger than this is refused: it would not fit a prompt anyway. */
export const MAX_PROGRAM_FILE_BYTES = 512 * 1024;

/** An agent program folder resolved to its real path once per load; every read is checked against it. */
export interface ProgramFolder {
  realPath: string;
  signal?: AbortSignal;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

export async function openProgramFolder(localPath: string, signal?: AbortSignal): Promise<ProgramFolder> {
  let realPath: string;
  try {
    realPath = await fs.realpath(localPath);
  } catch (error) {
    if (isMissing(error)) throw new AgentProgramError("the agent folder does not exist");
    const code = (error as NodeJS.ErrnoException).code;
    if (code && !signal?.aborted) throw new AgentProgramError(`the agent folder cannot be read (${code})`);
    throw error;
  }
  if (!(await fs.stat(realPath)).isDirectory()) throw new AgentProgramError("the agent path is not a folder");
  return { realPath, signal };
}

/**
 * The real path of `relative` inside `root`, or null when it does not exist. Refuses absolute paths, `..`
 * segments and symlinks that lead outside `root`: agents edit their own folders, and a link to the server's
 * secrets must not end up in a prompt or a tool result.
 */
export async function resolveInside(root: string, relative: string): Promise<string | null> {
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
    throw new AgentProgramError("must be a relative path without `..`", { file: relative });
  }
  let real: string;
  try {
    real = await fs.realpath(path.join(root, relative));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  if (!isInside(root, real)) throw new AgentProgramError("points outside its folder", { file: relative });
  return real;
}

/** File-system failures as program errors naming the file; cancellations pass through untouched. */
function unreadable(error: unknown, relative: string, signal?: AbortSignal): unknown {
  if (signal?.aborted || error instanceof AgentProgramError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  return code ? new AgentProgramError(`cannot be read (${code})`, { file: relative }) : error;
}

interface CacheEntry {
  version: string;
  readStartedAt: number;
  mtimeMs: number;
  value: unknown;
}

// Files changed less than this before they were read might change again within the file system's timestamp
// granularity without their stat changing; such entries are re-read instead of trusted ("racy git").
const RACY_WINDOW_MS = 2_000;
const MAX_CACHE_ENTRIES = 5_000;
const cache = new Map<string, CacheEntry>();

/**
 * Reads one file of a program and parses it. Unchanged files (same inode, size, mtime and ctime) answer the
 * value parsed last time, so a conversation does not re-parse its agent every turn; any edit is seen on the
 * next read. Parse failures are not cached. `kind` names the parser, as one file could be parsed two ways.
 */
export async function readProgramFile<T>(
  folder: ProgramFolder,
  relative: string,
  kind: string,
  parse: (text: string) => T,
  maxBytes = MAX_PROGRAM_FILE_BYTES,
): Promise<T | null> {
  try {
    return await readCached(folder, relative, kind, parse, maxBytes);
  } catch (error) {
    throw unreadable(error, relative, folder.signal);
  }
}

async function readCached<T>(
  folder: ProgramFolder,
  relative: string,
  kind: string,
  parse: (text: string) => T,
  maxBytes: number,
): Promise<T | null> {
  folder.signal?.throwIfAborted();
  const real = await resolveInside(folder.realPath, relative);
  if (!real) return null;
  const stat = await fs.stat(real, { bigint: true });
  if (!stat.isFile()) throw new AgentProgramError("is not a regular file", { file: relative });
  if (stat.size > BigInt(maxBytes)) {
    throw new AgentProgramError(`is larger than ${Math.round(maxBytes / 1024)} KB`, { file: relative });
  }
  const version = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  const key = `${kind}\0${real}`;
  const cached = cache.get(key);
  if (cached && cached.version === version && cached.readStartedAt - cached.mtimeMs > RACY_WINDOW_MS) {
    return cached.value as T;
  }
  const readStartedAt = Date.now();
  const bytes = await fs.readFile(real, { signal: folder.signal });
  if (bytes.length > maxBytes) {
    throw new AgentProgramError(`is larger than ${Math.round(maxBytes / 1024)} KB`, { file: relative });
  }
  const value = parse(normalizeText(bytes.toString("utf8")));
  cache.delete(key);
  cache.set(key, { version, readStartedAt, mtimeMs: Number(stat.mtimeMs), value });
  if (cache.size > MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return value;
}

/** One text form whatever the editor saved: no byte-order mark, LF line ends. Keeps prompts byte-stable. */
export function normalizeText(text: string): string {
  return text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
}

/** Names in a folder inside the program (hidden ones left out), sorted so what is built from them is stable. */
export async function listProgramFolder(folder: ProgramFolder, relative: string): Promise<string[]> {
  folder.signal?.throwIfAborted();
  const real = await resolveInside(folder.realPath, relative).catch((error) => {
    throw unreadable(error, relative, folder.signal);
  });
  if (!real) return [];
  let names: string[];
  try {
    names = await fs.readdir(real);
  } catch (error) {
    if (isMissing(error)) return [];
    throw unreadable(error, relative, folder.signal);
  }
  return names.filter((name) => !name.startsWith(".")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
