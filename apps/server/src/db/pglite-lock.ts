import fs from "node:fs";
import path from "node:path";

export class DataFolderLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly pid: number,
  ) {
    super(
      `The data folder is in use by another Cybros process (pid ${pid}). PGlite allows one process per folder: stop that process, or point CYBROS_DATA_DIR elsewhere. Lock file: ${lockPath}`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes an exclusive pid lock on a PGlite folder. PGlite has no cross-process locking of its own and two
 * writers corrupt the folder, so a second server must refuse to start. A lock left by a dead process is taken over.
 */
export function lockDataFolder(folder: string): () => void {
  const lockPath = path.join(folder, "cybros.lock");
  fs.mkdirSync(folder, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, "wx", 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt(fs.readFileSync(lockPath, "utf8"), 10);
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new DataFolderLockedError(lockPath, pid);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not take the data folder lock at ${lockPath}`);
}
