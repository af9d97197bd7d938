import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { AgentProgramError } from "./errors.js";

/** A single program file bigger than this is refused: it would not fit a prompt anyway. */
export const MAX_PROGRAM_FILE_BYTES = 512 * 1024;

/** An agent program folder resolved to its real path once per load; every read is checked against it. */
export interface ProgramFolder {
  realPath: string;
  signal?: AbortSignal;
  /** Collects what the load looked at, when its result is to be reused while nothing changes. */
  reads?: ReadSet;
}

// Files changed less than this before they were read might change again within the file system's timestamp
// granularity without their stat changing; such entries are re-read instead of trusted ("racy git").
const RACY_WINDOW_MS = 2_000;

/** Identity and state of a file or folder as stat sees it: any write, rename or replacement changes it. */
function stateOf(stat: Stats | null): string {
  return stat ? `${stat.dev}:${stat.ino}:${stat.mode}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}` : "missing";
}

function missingAsNull(error: unknown): null {
  if (isMissing(error)) return null;
  throw error;
}

type Check = "stat" | "lstat" | "realpath";

/**
 * Every path a load looked at, as it was then: files read (and the links leading to them), folders listed,
 * files found missing, where the folder's own path led. If none of them has changed, neither has anything the
 * load read, so its result still holds; checking is one parallel round of stat calls instead of a load's chains
 * of reads. A load that saw something modified within the racy window cannot be vouched for this way.
 */
export class ReadSet {
  private readonly seen = new Map<string, { check: Check; file: string; state: string }>();
  racy = false;

  constructor(readonly startedAt = Date.now()) {}

  note(check: Check, file: string, stat: Stats | null): void {
    this.seen.set(`${check}\0${file}`, { check, file, state: stateOf(stat) });
    if (stat && Math.max(stat.mtimeMs, stat.ctimeMs) > this.startedAt - RACY_WINDOW_MS) this.racy = true;
  }

  noteRealPath(file: string, realPath: string): void {
    this.seen.set(`realpath\0${file}`, { check: "realpath", file, state: realPath });
  }

  /** True when every path is as the load saw it. Any error (a folder gone unreadable) counts as a change. */
  async unchanged(): Promise<boolean> {
    const checks = [...this.seen.values()].map(async ({ check, file, state }) => {
      if (check === "realpath") return (await fs.realpath(file)) === state;
      const stat = await (check === "lstat" ? fs.lstat(file) : fs.stat(file)).catch(missingAsNull);
      return stateOf(stat) === state;
    });
    try {
      return (await Promise.all(checks)).every(Boolean);
    } catch {
      return false;
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * Where a write of `relative` (already free of ".." and absolute parts) may go under the real folder `root`: the
 * nearest part of the path that exists must resolve inside `root`, and the file itself must not be a link (a
 * write would follow it elsewhere). Null when it would land outside. Check before creating anything.
 */
export async function writableInside(root: string, relative: string): Promise<string | null> {
  const full = path.join(root, relative);
  if ((await fs.lstat(full).catch(missingAsNull))?.isSymbolicLink()) return null;
  return (await existingPartInside(root, full)) ? full : null;
}

/** Whether the nearest part of `full` that exists resolves inside the real folder `root` (links followed). */
export async function existingPartInside(root: string, full: string): Promise<boolean> {
  let existing = full;
  while (!(await fs.lstat(existing).catch(missingAsNull))) existing = path.dirname(existing);
  return isInside(root, await fs.realpath(existing));
}

export async function openProgramFolder(
  localPath: string,
  signal?: AbortSignal,
  reads?: ReadSet,
): Promise<ProgramFolder> {
  let realPath: string;
  try {
    realPath = await fs.realpath(localPath);
  } catch (error) {
    if (isMissing(error)) throw new AgentProgramError("the agent folder does not exist");
    const code = (error as NodeJS.ErrnoException).code;
    if (code && !signal?.aborted) throw new AgentProgramError(`the agent folder cannot be read (${code})`);
    throw error;
  }
  const stat = await fs.stat(realPath);
  if (!stat.isDirectory()) throw new AgentProgramError("the agent path is not a folder");
  reads?.noteRealPath(localPath, realPath);
  reads?.note("stat", realPath, stat);
  return { realPath, signal, reads };
}

/**
 * The real path of `relative` inside `root`, or null when it does not exist. Refuses absolute paths, `..`
 * segments and symlinks that lead outside `root`: agents edit their own folders, and a link to the server's
 * secrets must not end up in a prompt or a tool result.
 */
export async function resolveInside(root: string, relative: string, reads?: ReadSet): Promise<string | null> {
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
    throw new AgentProgramError("must be a relative path without `..`", { file: relative });
  }
  const joined = path.join(root, relative);
  const [real, link] = await Promise.all([
    fs.realpath(joined).catch(missingAsNull),
    reads ? fs.lstat(joined).catch(missingAsNull) : null,
  ]);
  // The path itself (a file, a folder, or a link: replacing one with another changes it), and where a link led.
  reads?.note("lstat", joined, link);
  if (real === null) return null;
  if (!isInside(root, real)) throw new AgentProgramError("points outside its folder", { file: relative });
  if (reads && real !== joined) reads.note("stat", real, await fs.stat(real).catch(missingAsNull));
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
  const real = await resolveInside(folder.realPath, relative, folder.reads);
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
  const real = await resolveInside(folder.realPath, relative, folder.reads).catch((error) => {
    throw unreadable(error, relative, folder.signal);
  });
  if (!real) return [];
  let names: string[];
  try {
    // The folder's stat changes when an entry is added, removed or renamed.
    const [listed, stat] = await Promise.all([fs.readdir(real), folder.reads ? fs.stat(real) : null]);
    if (stat) folder.reads?.note("stat", real, stat);
    names = listed;
  } catch (error) {
    if (isMissing(error)) return [];
    throw unreadable(error, relative, folder.signal);
  }
  return names.filter((name) => !name.startsWith(".")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
