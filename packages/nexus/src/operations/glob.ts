import fs from "node:fs/promises";
import { GLOB_MAX_FILES, type GlobResult, type globOperation } from "@cybros/protocol";
import type { z } from "zod";
import { type Facility, OperationError, resolveInFacility } from "./confine.js";
import { globMatcher, listFiles } from "./files.js";

/** Files under `path` (the cwd by default) matching `pattern`, sorted, at most GLOB_MAX_FILES; .gitignore respected. */
export async function glob(
  operation: z.infer<typeof globOperation>,
  facility: Facility,
  signal: AbortSignal,
): Promise<GlobResult> {
  const folder = resolveInFacility(facility, operation.path ?? ".");
  const stat = await fs.stat(folder.real).catch(() => undefined);
  if (!stat) throw new OperationError(`${operation.path ?? "."} does not exist`);
  if (!stat.isDirectory()) throw new OperationError(`${operation.path ?? "."} is a file, not a folder`);
  const matches = globMatcher(operation.pattern);
  const prefix = folder.relative === "." ? "" : `${folder.relative}/`;
  const files = (await listFiles(folder.real, signal)).filter(matches).sort();
  return {
    op: "glob",
    pattern: operation.pattern,
    path: folder.relative,
    files: files.slice(0, GLOB_MAX_FILES).map((file) => prefix + file),
    truncated: files.length > GLOB_MAX_FILES,
  };
}
