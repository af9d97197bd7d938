import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { GREP_MAX_MATCHES, type GrepMatch, type GrepResult, type grepOperation } from "@cybros/protocol";
import type { z } from "zod";
import {
  type Facility,
  MAX_TEXT_FILE_BYTES,
  OperationError,
  relativeToRoot,
  resolveInFacility,
  splitLines,
} from "./confine.js";
import { globMatcher, listFiles } from "./files.js";

type GrepOperation = z.infer<typeof grepOperation>;

const MAX_LINE_CHARS = 300;

let ripgrepFound: boolean | undefined;

/** Whether `rg` runs here; asked once per process. */
export function hasRipgrep(): boolean {
  ripgrepFound ??= spawnSync("rg", ["--version"], { stdio: "ignore", timeout: 5_000 }).status === 0;
  return ripgrepFound;
}

/**
 * Lines matching a regular expression under `path` (a folder or one file), as file:line:text, at most
 * GREP_MAX_MATCHES. ripgrep when the territory has it; otherwise the same search built in (JavaScript regular
 * expressions, .gitignore respected through git). Symlinks are not followed, binary files are skipped.
 */
export async function grep(
  operation: GrepOperation,
  facility: Facility,
  signal: AbortSignal,
  engine: "ripgrep" | "builtin" = hasRipgrep() ? "ripgrep" : "builtin",
): Promise<GrepResult> {
  const target = resolveInFacility(facility, operation.path ?? ".");
  const stat = await fs.stat(target.real).catch(() => undefined);
  if (!stat) throw new OperationError(`${operation.path ?? "."} does not exist`);
  const found =
    engine === "ripgrep"
      ? await withRipgrep(operation, facility, target.real, signal)
      : await builtIn(operation, facility, target.real, stat.isDirectory(), signal);
  return {
    op: "grep",
    pattern: operation.pattern,
    path: target.relative,
    matches: found.slice(0, GREP_MAX_MATCHES),
    truncated: found.length > GREP_MAX_MATCHES,
    engine,
  };
}

function shown(text: string): string {
  const line = text.replace(/\r?\n$/, "");
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

/** ripgrep's text, or its bytes (base64) when they are not UTF-8. */
function ripgrepText(field: { text?: string; bytes?: string } | undefined): string {
  return field?.text ?? Buffer.from(field?.bytes ?? "", "base64").toString("utf8");
}

/** Runs `rg --json` and reads its matches until one past the cap, then stops it. */
function withRipgrep(
  operation: GrepOperation,
  facility: Facility,
  target: string,
  signal: AbortSignal,
): Promise<GrepMatch[]> {
  const args = ["--json", "--hidden", "--sort=path", "--max-filesize=10M", "--glob", "!.git"];
  if (operation.ignore_case) args.push("--ignore-case");
  if (operation.glob) args.push("--glob", operation.glob);
  args.push("--regexp", operation.pattern, "--", target);
  const child = spawn("rg", args, { cwd: facility.root, stdio: ["ignore", "pipe", "pipe"], signal });
  const matches: GrepMatch[] = [];
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    if (stderr.length < 4_096) stderr += data.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (matches.length > GREP_MAX_MATCHES) return;
    const event = JSON.parse(line) as {
      type: string;
      data: {
        path?: { text?: string; bytes?: string };
        lines?: { text?: string; bytes?: string };
        line_number?: number;
      };
    };
    if (event.type !== "match") return;
    matches.push({
      path: relativeToRoot(facility, path.resolve(facility.root, ripgrepText(event.data.path))),
      line: event.data.line_number ?? 0,
      text: shown(ripgrepText(event.data.lines)),
    });
    if (matches.length > GREP_MAX_MATCHES) child.kill();
  });
  return new Promise((resolve, reject) => {
    child.once("error", (error) =>
      reject(signal.aborted ? error : new OperationError(`ripgrep failed: ${error.message}`)),
    );
    child.once("close", (code) => {
      // 0: matches, 1: none, 2: an error (with matches, only some files could not be read).
      if (code === 2 && matches.length === 0) {
        reject(
          new OperationError(`grep failed: ${stderr.trim().split("\n").slice(0, 3).join(" ") || "ripgrep exit 2"}`),
        );
      } else {
        resolve(matches);
      }
    });
  });
}

async function builtIn(
  operation: GrepOperation,
  facility: Facility,
  target: string,
  isFolder: boolean,
  signal: AbortSignal,
): Promise<GrepMatch[]> {
  let regex: RegExp;
  try {
    regex = new RegExp(operation.pattern, operation.ignore_case ? "i" : "");
  } catch (error) {
    throw new OperationError(`the pattern is not a valid regular expression: ${(error as Error).message}`);
  }
  const included = operation.glob ? globMatcher(operation.glob) : () => true;
  const files = isFolder
    ? (await listFiles(target, signal))
        .filter(included)
        .sort()
        .map((file) => path.join(target, file))
    : [target];
  const matches: GrepMatch[] = [];
  for (const file of files) {
    signal.throwIfAborted();
    const stat = await fs.lstat(file).catch(() => undefined);
    if (!stat?.isFile() || stat.size > MAX_TEXT_FILE_BYTES) continue;
    const bytes = await fs.readFile(file).catch(() => undefined);
    if (!bytes || bytes.subarray(0, 8_192).includes(0)) continue;
    for (const [index, line] of splitLines(bytes.toString("utf8")).entries()) {
      if (!regex.test(line)) continue;
      matches.push({ path: relativeToRoot(facility, file), line: index + 1, text: shown(line) });
      if (matches.length > GREP_MAX_MATCHES) return matches;
    }
  }
  return matches;
}
