import { reapConduits } from "../conduits/index.js";
import type { Services } from "../services.js";
import { resumeAbandonedRuns, startOrphanedRuns } from "./index.js";

/** At start: queued runs nobody started are started at once (interrupted running runs resume once it listens). */
export async function recoverRuns(services: Services): Promise<void> {
  await startOrphanedRuns(services, 0);
}

/**
 * The periodic sweep (jobs/reap-stale-runs.ts), the safety net behind wake-ups: resumes running runs nobody
 * advances (their lease lapsed), starts orphaned queued runs, and reaps directives and territories gone silent.
 */
export async function sweepRuns(services: Services): Promise<void> {
  await resumeAbandonedRuns(services);
  await startOrphanedRuns(services);
  await reapConduits(services);
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
