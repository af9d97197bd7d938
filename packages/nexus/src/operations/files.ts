import fs from "node:fs";
import path from "node:path";
import { git, inRepository } from "../git.js";
import { OperationError } from "./confine.js";

const SKIPPED_FOLDERS = new Set([".git", "node_modules"]);
/** A walk stops here: a listing that large is not something a model can use anyway. */
const MAX_WALKED_ENTRIES = 200_000;

/**
 * The files under `dir`, relative to it with `/` separators. In a git repository, what git would track (its
 * `.gitignore`s respected): `git ls-files --cached --others --exclude-standard`. Elsewhere a walk that skips
 * `.git` and `node_modules` and does not follow symlinked folders. Symlinks are listed, not followed.
 */
export async function listFiles(dir: string, signal: AbortSignal): Promise<string[]> {
  if (await inRepository(dir, signal)) {
    const listed = await git(dir, ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { signal });
    if (listed?.code === 0) {
      const names = new Set(listed.stdout.toString("utf8").split("\0").filter(Boolean));
      // The index still lists files deleted since; submodules are folders.
      return [...names].filter((name) => {
        const stat = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
        return stat !== undefined && !stat.isDirectory();
      });
    }
  }
  return walk(dir, signal);
}

async function walk(dir: string, signal: AbortSignal): Promise<string[]> {
  const files: string[] = [];
  const pending = [""];
  let seen = 0;
  while (pending.length > 0) {
    signal.throwIfAborted();
    const folder = pending.pop()!;
    const entries = await fs.promises
      .readdir(path.join(dir, folder), { withFileTypes: true })
      .catch(() => [] as fs.Dirent[]);
    for (const entry of entries) {
      if (++seen > MAX_WALKED_ENTRIES) return files;
      const name = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) pending.push(name);
      } else {
        files.push(name);
      }
    }
  }
  return files;
}

/**
 * A glob as ripgrep reads one: `*` and `?` within a path segment, `**` across segments, `[abc]`, `{a,b}`; a pattern
 * without `/` matches a file's name at any depth. Refuses patterns that would reach outside the searched folder.
 */
export function globMatcher(pattern: string): (file: string) => boolean {
  const glob = pattern.replace(/^(\.\/)+/, "");
  if (path.isAbsolute(glob) || glob.split("/").includes("..")) {
    throw new OperationError(
      `the pattern ${pattern} must be relative to the searched folder (set path for another one)`,
    );
  }
  const regex = new RegExp(`^${globSource(glob)}$`);
  if (!glob.includes("/")) return (file) => regex.test(file.slice(file.lastIndexOf("/") + 1));
  return (file) => regex.test(file);
}

function globSource(glob: string): string {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[" && glob.indexOf("]", i + 2) !== -1) {
      const end = glob.indexOf("]", i + 2);
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith("!") || body.startsWith("^");
      source += `[${negated ? "^" : ""}${(negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else if (char === "{" && closingBrace(glob, i) !== -1) {
      const end = closingBrace(glob, i);
      source += `(?:${splitAlternatives(glob.slice(i + 1, end))
        .map(globSource)
        .join("|")})`;
      i = end;
    } else {
      source += char.replace(/[.+^$()|\\{}[\]]/g, "\\$&");
    }
  }
  return source;
}

function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === "{") depth++;
    else if (glob[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "{") depth++;
    else if (body[i] === "}") depth--;
    else if (body[i] === "," && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}
