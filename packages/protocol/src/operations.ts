import { z } from "zod";

/**
 * Coding operations: file work a Nexus performs itself, inside the facility, with no process and no node needed
 * on the territory. A directive carries one as its command (`{operation}`); its answer comes back as the
 * directive's structured `result`: one of `operationResult` on success (exit 0), `operationError` on refusal
 * (exit 1). Paths may be relative to the facility or absolute inside it; the Nexus refuses any that lead out.
 */

export const READ_FILE_DEFAULT_LIMIT = 2_000;
export const READ_FILE_MAX_LINE_CHARS = 2_000;
export const GLOB_MAX_FILES = 1_000;
export const GREP_MAX_MATCHES = 200;

const operationPath = z.string().min(1, "is required").max(4_096);

export const readFileOperation = z.object({
  op: z.literal("read_file"),
  path: operationPath,
  /** The first line to read, from 1. */
  offset: z.number().int().min(1).optional(),
  /** How many lines at most; READ_FILE_DEFAULT_LIMIT when absent. */
  limit: z.number().int().min(1).max(20_000).optional(),
});

export const writeFileOperation = z.object({
  op: z.literal("write_file"),
  path: operationPath,
  content: z.string().max(1_000_000),
});

export const editFileOperation = z.object({
  op: z.literal("edit_file"),
  path: operationPath,
  old_string: z.string().min(1, "is required").max(1_000_000),
  new_string: z.string().max(1_000_000),
  replace_all: z.boolean().optional(),
});

export const globOperation = z.object({
  op: z.literal("glob"),
  /** Relative to `path`; without a `/` it matches a file's name at any depth (`*.ts`), as ripgrep's globs do. */
  pattern: z.string().min(1, "is required").max(1_024),
  path: operationPath.optional(),
});

export const grepOperation = z.object({
  op: z.literal("grep"),
  /** A regular expression. */
  pattern: z.string().min(1, "is required").max(4_096),
  path: operationPath.optional(),
  /** Only files whose path matches this glob (`*.ts`, `src/**`). */
  glob: z.string().max(1_024).optional(),
  ignore_case: z.boolean().optional(),
});

export const codingOperation = z.discriminatedUnion("op", [
  readFileOperation,
  writeFileOperation,
  editFileOperation,
  globOperation,
  grepOperation,
]);
export type CodingOperation = z.infer<typeof codingOperation>;
export type CodingOperationName = CodingOperation["op"];

// Results. Paths in results are relative to the facility root, with `/` separators.

export const readFileResult = z.object({
  op: z.literal("read_file"),
  path: z.string(),
  /** The lines read, numbered as `cat -n` does (number, tab, line); lines longer than the cap are cut. */
  content: z.string(),
  start_line: z.number().int(),
  /** The last line included; start_line - 1 when none was. */
  end_line: z.number().int(),
  total_lines: z.number().int(),
  /** More lines follow end_line, or a line was cut. */
  truncated: z.boolean(),
});
export type ReadFileResult = z.infer<typeof readFileResult>;

export const writeFileResult = z.object({
  op: z.literal("write_file"),
  path: z.string(),
  bytes_written: z.number().int(),
  action: z.enum(["created", "overwritten"]),
});
export type WriteFileResult = z.infer<typeof writeFileResult>;

export const editFileResult = z.object({
  op: z.literal("edit_file"),
  path: z.string(),
  replacements: z.number().int(),
  /** The line each replacement starts at in the edited file (the first ones, when there are many). */
  lines: z.array(z.number().int()),
  /** A unified diff of the edit, for people. */
  diff: z.string(),
  diff_truncated: z.boolean(),
});
export type EditFileResult = z.infer<typeof editFileResult>;

export const globResult = z.object({
  op: z.literal("glob"),
  pattern: z.string(),
  path: z.string(),
  files: z.array(z.string()),
  /** More files matched than GLOB_MAX_FILES. */
  truncated: z.boolean(),
});
export type GlobResult = z.infer<typeof globResult>;

export const grepMatch = z.object({ path: z.string(), line: z.number().int(), text: z.string() });
export type GrepMatch = z.infer<typeof grepMatch>;

export const grepResult = z.object({
  op: z.literal("grep"),
  pattern: z.string(),
  path: z.string(),
  matches: z.array(grepMatch),
  /** More lines matched than GREP_MAX_MATCHES. */
  truncated: z.boolean(),
  /** `ripgrep` when the territory has it, else the Nexus's own search. */
  engine: z.enum(["ripgrep", "builtin"]),
});
export type GrepResult = z.infer<typeof grepResult>;

export const operationResult = z.discriminatedUnion("op", [
  readFileResult,
  writeFileResult,
  editFileResult,
  globResult,
  grepResult,
]);
export type OperationResult = z.infer<typeof operationResult>;

/** Why an operation was refused or failed (a path outside the facility, no match, a binary file…), for the model. */
export const operationError = z.object({ op: z.string().optional(), error: z.string() });
export type OperationError = z.infer<typeof operationError>;
