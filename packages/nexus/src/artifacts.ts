import fs from "node:fs";
import path from "node:path";
import {
  ARTIFACTS_DIR_ENV,
  ARTIFACTS_FOLDER,
  artifactContentTypeOf,
  artifactName,
  type ClaimedDirective,
  type DirectiveSpec,
  MAX_ARTIFACT_BYTES,
  MAX_ARTIFACTS_PER_DIRECTIVE,
} from "@cybros/protocol";
import { type ConduitsClient, withRetries } from "./client.js";
import { type DriverOutcome, SANDBOX_WORKSPACE } from "./drivers.js";

/**
 * Runs a directive with an artifacts folder of its own: `<facility>/.cybros/artifacts/<directive id>/`, made empty
 * before the command starts and named to it as CYBROS_ARTIFACTS_DIR (its path inside the sandbox under bwrap).
 * Once the command exits, each regular file in it is uploaded (within the server's caps), then the folder is removed,
 * all before the daemon reports `finished`. A folder that cannot be made safely is logged and the command runs
 * without one.
 */
export async function withArtifacts(
  client: ConduitsClient,
  directive: ClaimedDirective,
  facilityRoot: string,
  log: (message: string) => void,
  run: (spec: DirectiveSpec) => Promise<DriverOutcome>,
): Promise<DriverOutcome> {
  const { spec } = directive;
  const relative = path.posix.join(ARTIFACTS_FOLDER, spec.directive_id);
  let folder: string;
  try {
    folder = makeFolder(facilityRoot, relative);
  } catch (error) {
    log(`directive ${spec.directive_id}: no artifacts folder: ${(error as Error).message}`);
    return run(spec);
  }
  const seenByCommand = spec.driver === "bwrap" ? path.posix.join(SANDBOX_WORKSPACE, relative) : folder;
  const outcome = await run({ ...spec, env: { ...spec.env, [ARTIFACTS_DIR_ENV]: seenByCommand } });
  try {
    await uploadFolder(client, directive, facilityRoot, relative, log);
    removeFolder(facilityRoot, relative);
  } catch (error) {
    // Artifacts are extras: the command's own end is reported whatever happened to them.
    log(`directive ${spec.directive_id}: artifacts: ${(error as Error).message}`);
  }
  return outcome;
}

/**
 * Makes each part of `relative` under the facility as a real directory. A part that exists as anything else (a
 * symlink a sandboxed command left to point outside) is refused: the Nexus, unsandboxed, must not read through it.
 */
function makeFolder(facilityRoot: string, relative: string): string {
  fs.mkdirSync(facilityRoot, { recursive: true });
  let at = fs.realpathSync(facilityRoot);
  const parts = relative.split("/");
  parts.forEach((part, index) => {
    at = path.join(at, part);
    const last = index === parts.length - 1;
    const stat = fs.lstatSync(at, { throwIfNoEntry: false });
    if (stat && !stat.isDirectory())
      throw new Error(`${path.posix.join(...parts.slice(0, index + 1))} is not a folder`);
    // A leftover from an earlier attempt at this directive goes: only this run's files are its artifacts.
    if (stat && last) fs.rmSync(at, { recursive: true, force: true });
    if (!stat || last) fs.mkdirSync(at);
  });
  return at;
}

/** The folder's path, if it is still a real folder inside the facility (the command may have replaced it). */
function realFolder(facilityRoot: string, relative: string): string | undefined {
  const expected = path.join(fs.realpathSync(facilityRoot), ...relative.split("/"));
  try {
    return fs.realpathSync(expected) === expected && fs.lstatSync(expected).isDirectory() ? expected : undefined;
  } catch {
    return undefined;
  }
}

async function uploadFolder(
  client: ConduitsClient,
  directive: ClaimedDirective,
  facilityRoot: string,
  relative: string,
  log: (message: string) => void,
): Promise<void> {
  const id = directive.directive_id;
  const folder = realFolder(facilityRoot, relative);
  if (!folder) {
    log(`directive ${id}: the artifacts folder was replaced; nothing uploaded`);
    return;
  }
  const entries = fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  let uploaded = 0;
  for (const entry of entries) {
    const skip = (why: string) => log(`directive ${id}: artifact ${JSON.stringify(entry.name)} skipped: ${why}`);
    if (!entry.isFile()) {
      skip("not a regular file");
      continue;
    }
    if (!artifactName.safeParse(entry.name).success) {
      skip("not a plain file name");
      continue;
    }
    if (uploaded >= MAX_ARTIFACTS_PER_DIRECTIVE) {
      skip(`a directive keeps at most ${MAX_ARTIFACTS_PER_DIRECTIVE}`);
      continue;
    }
    let bytes: Buffer | "too large";
    try {
      bytes = readRegularFile(path.join(folder, entry.name));
    } catch (error) {
      skip((error as Error).message);
      continue;
    }
    if (bytes === "too large") {
      skip(`larger than ${MAX_ARTIFACT_BYTES} bytes`);
      continue;
    }
    try {
      await withRetries(() => client.artifact(directive, entry.name, artifactContentTypeOf(entry.name), bytes));
      uploaded++;
    } catch (error) {
      skip(`upload failed: ${(error as Error).message}`);
    }
  }
}

/** A file's bytes, opened without following a symlink swapped in since the listing. */
function readRegularFile(file: string): Buffer | "too large" {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error("not a regular file");
    if (stat.size > MAX_ARTIFACT_BYTES) return "too large";
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Removes this directive's folder, and the parents it made when nothing else is in them; nothing when a part of the
 * path is no longer a real folder (removing through a symlink could reach outside the facility).
 */
function removeFolder(facilityRoot: string, relative: string): void {
  const folder = realFolder(facilityRoot, relative);
  if (!folder) return;
  fs.rmSync(folder, { recursive: true, force: true });
  const root = fs.realpathSync(facilityRoot);
  const parts = relative.split("/");
  for (let depth = parts.length - 1; depth > 0; depth--) {
    try {
      fs.rmdirSync(path.join(root, ...parts.slice(0, depth)));
    } catch {
      return; // Not empty, or not ours to remove.
    }
  }
}
