import fs from "node:fs/promises";
import path from "node:path";
import type { WriteFileResult, writeFileOperation } from "@cybros/protocol";
import type { z } from "zod";
import { type Facility, OperationError, resolveInFacility } from "./confine.js";

/** Writes a whole file, making the folders it needs; says whether it made the file or replaced one. */
export async function writeFile(
  operation: z.infer<typeof writeFileOperation>,
  facility: Facility,
): Promise<WriteFileResult> {
  const file = resolveInFacility(facility, operation.path);
  const existing = await fs.stat(file.real).catch(() => undefined);
  if (existing?.isDirectory()) throw new OperationError(`${operation.path} is a folder`);
  if (existing && !existing.isFile()) throw new OperationError(`${operation.path} is not a regular file`);
  await fs.mkdir(path.dirname(file.real), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new OperationError(`cannot make the folder for ${operation.path} (${error.code ?? error.message})`);
  });
  await fs.writeFile(file.real, operation.content);
  return {
    op: "write_file",
    path: file.relative,
    bytes_written: Buffer.byteLength(operation.content),
    action: existing ? "overwritten" : "created",
  };
}
