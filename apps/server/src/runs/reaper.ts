import { reapConduits } from "../conduits/index.js";
import type { Queue } from "../jobs/queue.js";
import type { Services } from "../services.js";
import { failInterruptedRuns, reapStaleRuns, startOrphanedRuns } from "./index.js";

const REAP_JOB = "reap-stale-runs";

/**
 * At start, PGlite (one process) fails every run left running by the previous process at once; on a shared
 * server only stale ones go, since other processes may be running theirs. Queued runs nobody started are started.
 * Then a recurring job keeps doing both every minute.
 */
export async function startReaper(services: Services, queue: Queue): Promise<void> {
  if (services.database.kind === "pglite") await failInterruptedRuns(services);
  else await reapStaleRuns(services);
  await startOrphanedRuns(services, 0);
  await queue.createQueue(REAP_JOB);
  await queue.schedule(REAP_JOB, "* * * * *");
  // The cron job lands once a minute; polling for it more often only occupies PGlite's thread (~20 ms a fetch).
  await queue.work(REAP_JOB, { pollingIntervalSeconds: 30 }, async () => {
    await reapStaleRuns(services);
    await startOrphanedRuns(services);
    await reapConduits(services);
  });
}
