import type { Services } from "../services.js";
import { failInterruptedRuns, reapStaleRuns, startOrphanedRuns } from "./index.js";

/**
 * At start, PGlite (one process) fails every run left running by the previous process at once; on a shared
 * server only stale ones go, since other processes may be running theirs. Queued runs nobody started are started.
 */
export async function recoverRuns(services: Services): Promise<void> {
  if (services.database.kind === "pglite") await failInterruptedRuns(services);
  else await reapStaleRuns(services);
  await startOrphanedRuns(services, 0);
}

/** The periodic sweep (jobs/reap-stale-runs.ts): fails runs whose process went away, starts orphaned queued runs. */
export async function sweepRuns(services: Services): Promise<void> {
  await reapStaleRuns(services);
  await startOrphanedRuns(services);
}
