import { cancelDirective } from "../../conduits/directives.js";
import { ConflictError } from "../../errors.js";
import type { Services } from "../../services.js";
import { cancelChildRuns } from "./await-run.js";

/**
 * A run that ends stops what it was still waiting on: child runs are canceled, directives canceled (a queued or
 * unapproved one at once, a running one through its Nexus's next heartbeat). Approvals need nothing: the closed
 * step no longer takes an answer.
 */
export async function withdrawWaits(services: Services, waitKeys: (string | null)[]): Promise<void> {
  await cancelChildRuns(services, waitKeys);
  for (const key of waitKeys) {
    if (!key?.startsWith("directive:")) continue;
    try {
      await cancelDirective(services, key.slice("directive:".length));
    } catch (error) {
      if (!(error instanceof ConflictError))
        services.log.error({ err: error, waitKey: key }, "directive cancel failed");
    }
  }
}
