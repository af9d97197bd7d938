import { sweepRuns } from "../runs/reaper.js";
import type { PeriodicTask } from "./periodic.js";

export const reapStaleRunsJob: PeriodicTask = { name: "reap-stale-runs", interval: 60_000, handler: sweepRuns };
