import type { Queue } from "../jobs/queue.js";
import type { Services } from "../services.js";
import { resumeAbandonedRuns, startOrphanedRuns } from "./index.js";

const REAP_JOB = "reap-stale-runs";

/**
 * Queued runs nobody started are started at once; then a recurring job starts those and resumes running runs
 * nobody advances, every minute: the safety net behind wake-ups.
 */
export async function startReaper(services: Services, queue: Queue): Promise<void> {
  await startOrphanedRuns(services, 0);
  await queue.createQueue(REAP_JOB);
  await queue.schedule(REAP_JOB, "* * * * *");
  // The cron job lands once a minute; polling for it more often only occupies PGlite's thread (~20 ms a fetch).
  await queue.work(REAP_JOB, { pollingIntervalSeconds: 30 }, async () => {
    await resumeAbandonedRuns(services);
    await startOrphanedRuns(services);
  });
}

/**
 * Once the server listens (a model call may need its own address: the built-in mock): PGlite (one process) resumes
 * every run left running by the previous process; on a shared server only those whose lease lapsed, since other
 * processes may be advancing theirs.
 */
export async function resumeInterruptedRuns(services: Services): Promise<number> {
  const everyLease = new Date("9999-12-31T00:00:00Z");
  return resumeAbandonedRuns(services, services.database.kind === "pglite" ? everyLease : new Date());
}
