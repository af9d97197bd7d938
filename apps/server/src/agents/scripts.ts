import fs from "node:fs/promises";
import type { DirectiveRequest } from "@cybros/protocol";
import { AgentProgramError } from "./errors.js";
import { type ReadSet, resolveInside } from "./files.js";

/**
 * The agent's own executables (custom tools, hooks): how one is started, and the directive that runs it in the
 * agent's folder on the local territory with its input on stdin and in an environment variable, its answer read
 * from a file it may write, else from its stdout.
 */

/** Environment values are capped by the directive protocol; a bigger input travels on stdin only. */
const MAX_ENV_VALUE_CHARS = 32_000;

/**
 * The argv (relative to the agent's folder) that runs `relative`: the file itself when it has an executable bit,
 * else the interpreter its `#!` line names (an agent writing its own script cannot set the bit). The problem, in
 * words for the author, when there is nothing to run.
 */
export async function scriptCommand(
  realPath: string,
  relative: string,
  reads?: ReadSet,
): Promise<{ argv: string[] } | { problem: string }> {
  let real: string | null;
  try {
    real = await resolveInside(realPath, relative, reads);
  } catch (error) {
    if (error instanceof AgentProgramError) return { problem: `${relative}: ${error.reason}` };
    throw error;
  }
  if (!real) return { problem: `${relative}: is missing` };
  const stat = await fs.stat(real);
  if (!stat.isFile()) return { problem: `${relative}: is not a regular file` };
  const own = `./${relative.split("\\").join("/")}`;
  if (stat.mode & 0o111) return { argv: [own] };
  const shebang = await firstLine(real);
  if (shebang?.startsWith("#!")) {
    // As the kernel reads it: the interpreter, then everything after it as one argument.
    const line = shebang.slice(2).trim();
    const space = line.search(/\s/);
    const interpreter = space < 0 ? line : line.slice(0, space);
    const argument = space < 0 ? "" : line.slice(space).trim();
    if (interpreter) return { argv: [interpreter, ...(argument ? [argument] : []), own] };
  }
  return { problem: `${relative}: is not executable (set its executable bit, or start it with a #! line)` };
}

async function firstLine(file: string): Promise<string | null> {
  const handle = await fs.open(file, "r");
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8").split("\n", 1)[0] ?? null;
  } finally {
    await handle.close();
  }
}

/**
 * The directive that runs a script: a small `sh` wrapper runs it with the input on stdin and in `inputVariable`,
 * gives it a scratch file named by `outputVariable` (outside the agent's folder, so its git tree stays clean),
 * and prints that file when the script wrote it, else what the script printed: the directive's stdout is the
 * answer either way. The script's stderr and exit code pass through.
 */
export function scriptRequest(input: {
  argv: string[];
  json: string;
  inputVariable: string;
  outputVariable: string;
  timeoutSeconds: number;
}): DirectiveRequest {
  const shell = [
    `out=$(mktemp /tmp/cybros-script.XXXXXX) && got=$(mktemp /tmp/cybros-script.XXXXXX) || exit 125`,
    `trap 'rm -f "$out" "$got"' EXIT`,
    `trap 'exit 143' TERM`,
    `${input.outputVariable}="$out" ${input.argv.map(shellWord).join(" ")} >"$got"`,
    `code=$?`,
    `if [ -s "$out" ]; then cat "$out"; else cat "$got"; fi`,
    `exit $code`,
  ].join("\n");
  return {
    command: { shell },
    cwd: ".",
    stdin: input.json,
    env: input.json.length <= MAX_ENV_VALUE_CHARS ? { [input.inputVariable]: input.json } : {},
    timeout_seconds: input.timeoutSeconds,
    output_cap_bytes: 1_000_000,
  };
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
