import fs from "node:fs";
import path from "node:path";

/** A refusal or failure the model should read as is: the message names the path and why. */
export class OperationError extends Error {}

/** Where an operation runs: the facility's real root, the folder relative paths start from, and the root as named. */
export interface Facility {
  root: string;
  cwd: string;
  /** The root as the spec named it (before symlinks resolve), so absolute paths written that way are accepted. */
  namedRoot: string;
}

export interface ResolvedPath {
  /** The real path: symlinks of its existing part resolved. */
  real: string;
  /** Relative to the facility root, `/`-separated; "." for the root itself. */
  relative: string;
}

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(`${root}${path.sep}`);
}

/** A path relative to the facility root, as results show it. */
export function relativeToRoot(facility: Facility, real: string): string {
  return path.relative(facility.root, real).split(path.sep).join("/") || ".";
}

/**
 * Resolves a path an operation names, confined to the facility: a relative path starts at the cwd; an absolute one
 * must name a place inside the root. The longest existing part is resolved with realpath, so a symlink that leads
 * out is refused like a `..` that climbs out; what does not exist yet is appended to it.
 */
export function resolveInFacility(facility: Facility, requested: string): ResolvedPath {
  if (requested.includes("\0")) throw new OperationError(`${JSON.stringify(requested)} is not a valid path`);
  let lexical: string;
  if (path.isAbsolute(requested)) {
    const absolute = path.resolve(requested);
    const named = path.resolve(facility.namedRoot);
    lexical = inside(named, absolute) ? path.join(facility.root, path.relative(named, absolute)) : absolute;
    if (!inside(facility.root, lexical)) {
      throw new OperationError(`${requested} is outside the workspace (${facility.namedRoot})`);
    }
  } else {
    lexical = path.resolve(facility.cwd, requested);
    if (!inside(facility.root, lexical)) {
      throw new OperationError(`${requested} leaves the workspace: ".." climbs above its root`);
    }
  }

  const missing: string[] = [];
  let existing = lexical;
  while (!exists(existing)) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch {
    throw new OperationError(`${requested}: ${relativeToRoot(facility, existing)} is a symlink to nothing`);
  }
  if (!inside(facility.root, real)) {
    const link = firstLinkOut(facility.root, existing) ?? existing;
    throw new OperationError(
      `${requested}: the symlink ${relativeToRoot(facility, link)} leads outside the workspace (to ${fs.realpathSync(link)})`,
    );
  }
  const resolved = path.join(real, ...missing);
  return { real: resolved, relative: relativeToRoot(facility, resolved) };
}

/** Whether something (a symlink too, even a broken one) is at `file`; a file in the way of a folder means no. */
function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The first component on the way from the root to `target` whose real path is outside the root. */
function firstLinkOut(root: string, target: string): string | undefined {
  let current = root;
  for (const part of path.relative(root, target).split(path.sep)) {
    current = path.join(current, part);
    if (fs.lstatSync(current).isSymbolicLink() && !inside(root, fs.realpathSync(current))) return current;
  }
  return undefined;
}

/** Opens the facility: its real root (made when missing, as drivers do) and the spec's cwd inside it. */
export function openFacility(facilityRoot: string, cwd: string): Facility {
  fs.mkdirSync(facilityRoot, { recursive: true });
  const root = fs.realpathSync(facilityRoot);
  const facility = { root, cwd: root, namedRoot: facilityRoot };
  const start = resolveInFacility(facility, cwd);
  if (!fs.statSync(start.real, { throwIfNoEntry: false })?.isDirectory()) {
    throw new OperationError(`cwd ${cwd} is not a folder in the workspace`);
  }
  return { ...facility, cwd: start.real };
}

const BINARY_EXTENSIONS = new Set(
  "png jpg jpeg gif webp bmp ico tiff pdf zip gz tgz bz2 xz 7z rar jar war class so dylib dll exe o a wasm mp3 mp4 mov avi mkv wav flac ogg woff woff2 ttf otf eot sqlite db pyc".split(
    " ",
  ),
);

/** Why a file is not text (a known binary type, NUL bytes at its start), or undefined when it reads as text. */
export function binaryReason(file: string, bytes: Buffer): string | undefined {
  const extension = path.extname(file).slice(1).toLowerCase();
  if (BINARY_EXTENSIONS.has(extension)) return `a .${extension} file`;
  if (bytes.subarray(0, 8_192).includes(0)) return "it contains NUL bytes";
  return undefined;
}

/** A file's lines without their ends (`\n` or `\r\n`); a final line end does not start another line. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

export const MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024;

/** A text file's content for reading or editing, refused with a reason when missing, a folder, large or binary. */
export async function readTextFile(file: ResolvedPath, named: string): Promise<string> {
  const stat = await fs.promises.stat(file.real).catch(() => undefined);
  if (!stat) throw new OperationError(`${named} does not exist`);
  if (stat.isDirectory()) throw new OperationError(`${named} is a folder; use glob to list its files`);
  if (!stat.isFile()) throw new OperationError(`${named} is not a regular file`);
  if (stat.size > MAX_TEXT_FILE_BYTES) {
    const megabytes = (stat.size / 1024 / 1024).toFixed(1);
    throw new OperationError(`${named} is ${megabytes} MB; files over 10 MB are not read (grep finds lines in it)`);
  }
  const bytes = await fs.promises.readFile(file.real);
  const binary = binaryReason(file.real, bytes);
  if (binary) throw new OperationError(`${named} is a binary file (${binary}); only text files are read`);
  return bytes.toString("utf8");
}
