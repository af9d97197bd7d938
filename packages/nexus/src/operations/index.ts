import type { CodingOperation, DirectiveSpec, FinalDirectiveState, OperationResult } from "@cybros/protocol";
import { OperationError, openFacility } from "./confine.js";
import { editFile } from "./edit-file.js";
import { glob } from "./glob.js";
import { grep } from "./grep.js";
import { readFile } from "./read-file.js";
import { writeFile } from "./write-file.js";

/** How an operation ended: exit 0 with its result, exit 1 with `{op, error}`, or stopped by a timeout or cancel. */
export interface OperationOutcome {
  status: FinalDirectiveState;
  exitCode: number | null;
  result: Record<string, unknown>;
}

async function perform(
  operation: CodingOperation,
  facilityRoot: string,
  cwd: string,
  signal: AbortSignal,
): Promise<OperationResult> {
  const facility = openFacility(facilityRoot, cwd);
  switch (operation.op) {
    case "read_file":
      return readFile(operation, facility);
    case "write_file":
      return writeFile(operation, facility);
    case "edit_file":
      return editFile(operation, facility);
    case "glob":
      return glob(operation, facility, signal);
    case "grep":
      return grep(operation, facility, signal);
  }
}

/**
 * Performs a directive's coding operation in the Nexus itself: no process, so no sandbox, but confined to the
 * facility path by path (operations/confine.ts) and stopped by the spec's timeout (124) or a cancel like any
 * directive.
 */
export async function performOperation(
  spec: DirectiveSpec,
  facilityRoot: string,
  cancel: AbortSignal,
): Promise<OperationOutcome> {
  if (!("operation" in spec.command)) throw new Error("the directive is not an operation");
  const { operation } = spec.command;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort("timeout"), spec.timeout_seconds * 1000);
  const onCancel = () => stop.abort("cancel");
  cancel.addEventListener("abort", onCancel, { once: true });
  if (cancel.aborted) onCancel();
  const stopped = new Promise<never>((_, reject) => {
    stop.signal.addEventListener("abort", () => reject(stop.signal.reason), { once: true });
  });
  try {
    const result = await Promise.race([perform(operation, facilityRoot, spec.cwd, stop.signal), stopped]);
    return { status: "succeeded", exitCode: 0, result };
  } catch (error) {
    if (stop.signal.reason === "timeout") {
      return {
        status: "timed_out",
        exitCode: 124,
        result: { op: operation.op, error: `timed out after ${spec.timeout_seconds} s` },
      };
    }
    if (stop.signal.aborted)
      return { status: "canceled", exitCode: null, result: { op: operation.op, error: "canceled" } };
    return { status: "failed", exitCode: 1, result: { op: operation.op, error: describe(error) } };
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener("abort", onCancel);
  }
}

/** The message for the model: a refusal as written; a system error by its code, without a stack. */
function describe(error: unknown): string {
  if (error instanceof OperationError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EROFS") return "the file system is read-only";
  return `the operation failed: ${(error as Error).message ?? String(error)}`;
}
