import { and, eq, isNotNull, lt, or, sql } from "drizzle-orm";
import { directives } from "../db/schema.js";
import type { Services } from "../services.js";
import { TIMEOUT_GRACE_SECONDS } from "./index.js";
import { markSilentTerritoriesOffline } from "./territories.js";

/**
 * What the server does when a Nexus goes quiet, run by the periodic reaper job:
 * - a lease that lapsed before `started` → queued again, its token void, for any poller of the territory
 *   (canceled instead when a cancel was asked meanwhile);
 * - a running directive whose lease lapsed (no heartbeat) or that overran its timeout plus a grace →
 *   timed_out, which frees its facility and tells whoever waits on it;
 * - a territory silent for a few heartbeat intervals → offline.
 */
export async function reapConduits(
  services: Services,
): Promise<{ requeued: number; timedOut: number; offline: number }> {
  const canceled = await services.db
    .update(directives)
    .set({ state: "canceled", endReason: "canceled_before_start", finishedAt: sql`now()`, leaseExpiresAt: null })
    .where(
      and(
        eq(directives.state, "leased"),
        lt(directives.leaseExpiresAt, sql`now()`),
        isNotNull(directives.cancelRequestedAt),
      ),
    )
    .returning();
  for (const directive of canceled) await services.conduits.directiveFinished(directive);
  const requeued = await services.db
    .update(directives)
    .set({ state: "queued", tokenHash: null, leasedAt: null, leaseExpiresAt: null })
    .where(and(eq(directives.state, "leased"), lt(directives.leaseExpiresAt, sql`now()`)))
    .returning({ territoryId: directives.territoryId });
  for (const territoryId of new Set(requeued.map((row) => row.territoryId))) services.conduits.claimable(territoryId);

  const timedOut = await services.db
    .update(directives)
    .set({
      state: "timed_out",
      endReason: sql`CASE WHEN ${directives.leaseExpiresAt} < now() THEN 'lease_lapsed' ELSE 'timeout' END`,
      finishedAt: sql`now()`,
      leaseExpiresAt: null,
    })
    .where(
      and(
        eq(directives.state, "running"),
        or(
          lt(directives.leaseExpiresAt, sql`now()`),
          sql`${directives.startedAt} + make_interval(secs => ${directives.timeoutSeconds} + ${TIMEOUT_GRACE_SECONDS}) < now()`,
        ),
      ),
    )
    .returning();
  for (const directive of timedOut) {
    services.conduits.claimable(directive.territoryId);
    await services.conduits.directiveFinished(directive);
  }

  const offline = await markSilentTerritoriesOffline(services.db);
  if (requeued.length || timedOut.length || offline) {
    services.log.info({ requeued: requeued.length, timedOut: timedOut.length, offline }, "conduits reaped");
  }
  return { requeued: requeued.length, timedOut: timedOut.length, offline };
}
