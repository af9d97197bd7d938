import {
  type ClaimedDirective,
  type DirectiveSpec,
  type PollRequest,
  type PollResponse,
  pollRequest,
} from "@cybros/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import { isUniqueViolation } from "../db/errors.js";
import { directives } from "../db/schema.js";
import { parseWith } from "../http/validate.js";
import type { Services } from "../services.js";
import { DIRECTIVE_HEARTBEAT_INTERVAL_SECONDS, LEASE_SECONDS } from "./index.js";
import type { TerritoryRow } from "./territories.js";
import { newDirectiveToken, newSecret } from "./tokens.js";

/** A Nexus with no free slot polls again after this long. */
const FULL_RETRY_SECONDS = 1;

/**
 * A long poll: claims what this territory may run now; with nothing to claim, holds the request until a
 * directive becomes claimable here (Conduits.claimable) or `wait_seconds` pass, then answers what it claims.
 */
export async function poll(
  services: Services,
  territory: TerritoryRow,
  input: PollRequest,
  abort?: AbortSignal,
): Promise<PollResponse> {
  const request = parseWith(pollRequest, input);
  const deadline = Date.now() + request.wait_seconds * 1000;
  for (;;) {
    const wakeUp = services.conduits.armWakeUp(territory.id);
    const slots = Math.min(request.max_directives, territory.capacity - (await activeCount(services, territory.id)));
    if (slots <= 0) {
      wakeUp.disarm();
      return {
        directives: [],
        lease_seconds: LEASE_SECONDS,
        directive_heartbeat_seconds: DIRECTIVE_HEARTBEAT_INTERVAL_SECONDS,
        retry_after_seconds: FULL_RETRY_SECONDS,
      };
    }
    const claimed = await claimDirectives(services, territory.id, request.supported_drivers, slots);
    const remaining = deadline - Date.now();
    if (claimed.length > 0 || remaining <= 0 || abort?.aborted || services.conduits.stopping) {
      wakeUp.disarm();
      return {
        directives: claimed,
        lease_seconds: LEASE_SECONDS,
        directive_heartbeat_seconds: DIRECTIVE_HEARTBEAT_INTERVAL_SECONDS,
        retry_after_seconds: 0,
      };
    }
    await wakeUp.wait(remaining, abort);
  }
}

async function activeCount(services: Services, territoryId: string): Promise<number> {
  const [row] = await services.db
    .select({ count: sql<number>`count(*)::int` })
    .from(directives)
    .where(and(eq(directives.territoryId, territoryId), inArray(directives.state, ["leased", "running"])));
  return row?.count ?? 0;
}

/**
 * Claims up to `limit` queued directives of this territory, oldest first, one statement each: SKIP LOCKED keeps
 * two pollers off the same row, and the one-active-per-facility index refuses a second lease on a facility
 * (another poller won that facility meanwhile: that attempt claims nothing and the next looks again).
 */
async function claimDirectives(
  services: Services,
  territoryId: string,
  drivers: string[],
  limit: number,
): Promise<ClaimedDirective[]> {
  const claimed: ClaimedDirective[] = [];
  for (let attempt = 0; claimed.length < limit && attempt < limit * 2; attempt++) {
    const secret = newSecret("cyd");
    const next = sql`(
      SELECT d.id FROM directives d
      WHERE d.state = 'queued' AND d.territory_id = ${territoryId}
        AND d.driver IN (${sql.join(
          drivers.map((driver) => sql`${driver}`),
          sql`, `,
        )})
        AND NOT EXISTS (
          SELECT 1 FROM directives active WHERE active.facility_id = d.facility_id AND active.state IN ('leased', 'running')
        )
      ORDER BY d.queued_at, d.id
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    )`;
    let row: typeof directives.$inferSelect | undefined;
    try {
      [row] = await services.db
        .update(directives)
        .set({
          state: "leased",
          tokenHash: secret.hash,
          leasedAt: sql`now()`,
          leaseExpiresAt: sql`now() + make_interval(secs => ${LEASE_SECONDS})`,
        })
        .where(eq(directives.id, next))
        .returning();
    } catch (error) {
      if (isUniqueViolation(error, "directives_one_active_per_facility_idx")) continue;
      throw error;
    }
    if (!row) break;
    claimed.push({
      directive_id: row.id,
      directive_token: newDirectiveToken(row.id, secret),
      spec: row.spec as DirectiveSpec,
    });
  }
  return claimed;
}
