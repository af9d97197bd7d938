import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../log.js";
import { lockDataFolder } from "./pglite-lock.js";
import { PgliteThread } from "./pglite-thread.js";

/** A PGlite database running in its thread, with the folder lock to release when it closes. */
export interface StartedPglite {
  client: PgliteThread;
  release(): void;
}

/**
 * Locks the folder ("memory://…" needs no lock) and starts PostgreSQL in its worker thread. Light on imports:
 * main.ts calls it before loading the rest of the server, so PGlite's start (WebAssembly compile, PostgreSQL
 * boot) runs on the other core while this one loads modules.
 */
export async function startPglite(dataDir: string, log: Logger, sharedBuffers?: string): Promise<StartedPglite> {
  const inMemory = dataDir.startsWith("memory://");
  const release = inMemory ? () => {} : lockDataFolder(path.dirname(dataDir));
  try {
    if (!inMemory) fs.mkdirSync(dataDir, { recursive: true });
    const client = await PgliteThread.open(inMemory ? undefined : dataDir, {
      sharedBuffers,
      onFailure: (error) =>
        log.fatal({ err: error }, "the PGlite worker thread stopped: every database request fails until a restart"),
    });
    return { client, release };
  } catch (error) {
    release();
    throw error;
  }
}
