import type { Services } from "../../services.js";
import { cancelRun } from "../index.js";
import { findRun } from "../store.js";

/** The wait key of a wait on a child run: the child's end answers it through resolveWait. */
export const childRunKey = (runId: string) => `run:${runId}`;

/** A parent run that ends stops the child runs it was still waiting on. */
export async function cancelChildRuns(services: Services, waitKeys: (string | null)[]): Promise<void> {
  for (const key of waitKeys) {
    if (!key?.startsWith("run:")) continue;
    const child = await findRun(services, key.slice("run:".length)).catch(() => undefined);
    if (child && (child.state === "queued" || child.state === "running")) await cancelRun(services, child);
  }
}
