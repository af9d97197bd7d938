import { ConduitsClient } from "./client.js";
import { NEXUS_VERSION, Nexus } from "./daemon.js";

/**
 * The Nexus as a library, for a host process that runs one beside itself (the server's embedded local Nexus).
 * `cybros-nexus run` is the same daemon behind a command line (main.ts).
 */

export interface StartNexusOptions {
  /** The server whose `/conduits/v1` this Nexus polls. */
  serverUrl: string;
  /** The territory's bearer token. */
  token: string;
  /** Holds the finished-report journal (replayed at the next start). */
  dataDir: string;
  /** Where facilities of kinds empty and repo live; `<dataDir>/facilities` when unset. */
  workspacesDir?: string;
  /** Directives run at once. */
  capacity: number;
  log?: (message: string) => void;
}

export interface RunningNexus {
  /** Stops polling, cancels running directives, reports their ends; resolves once the daemon has stopped. */
  stop(): Promise<void>;
  /** Settles when the daemon ends by itself (a credential the server refuses for good) or after `stop`. */
  readonly ended: Promise<void>;
}

/** Starts the daemon in this process; it keeps polling until `stop`. A failure ends it and is logged, not thrown. */
export function startNexus(options: StartNexusOptions): RunningNexus {
  const log = options.log ?? ((message: string) => console.error(`[cybros-nexus] ${message}`));
  const stopping = new AbortController();
  const nexus = new Nexus(new ConduitsClient(options.serverUrl, options.token), {
    dir: options.dataDir,
    workspacesDir: options.workspacesDir,
    slots: options.capacity,
    log,
    cancelOnStop: true,
  });
  const ended = nexus.run(stopping.signal).catch((error) => {
    log(`stopped: ${(error as Error).message}`);
    stopping.abort(); // ends the territory heartbeat too
  });
  return {
    ended,
    stop: async () => {
      stopping.abort();
      await ended;
    },
  };
}

export { nexusPlatform } from "./config.js";
/** How a territory names its platform when it enrolls, e.g. `linux-x64`. */
export { NEXUS_VERSION };
