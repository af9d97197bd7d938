import type { TerritoryHeartbeatRequest, TerritoryHeartbeatResponse, TerritorySummary } from "@cybros/protocol";
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { directives, territories } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Services } from "../services.js";
import { SILENT_INTERVALS_OFFLINE } from "./index.js";

export type TerritoryRow = typeof territories.$inferSelect;

/** A territory says it is alive and what it can do; a pending or offline one is online again. */
export async function territoryHeartbeat(
  db: Db,
  territory: TerritoryRow,
  request: TerritoryHeartbeatRequest,
): Promise<TerritoryHeartbeatResponse> {
  await db
    .update(territories)
    .set({
      capacity: request.capacity,
      running: request.running,
      drivers: request.drivers,
      nexusVersion: request.nexus_version,
      lastSeenAt: sql`now()`,
      status: "online",
    })
    .where(and(eq(territories.id, territory.id), ne(territories.status, "revoked")));
  return { next_heartbeat_seconds: territory.heartbeatIntervalSeconds };
}

/**
 * Refuses the territory's token from now on. The local territory cannot be revoked: its Nexus is the server's
 * own (CYBROS_LOCAL_NEXUS=off stops it). Directives of its facilities that have not started are canceled
 * (nothing else may run them); running ones time out once their leases lapse, as their heartbeats are refused.
 */
export async function revokeTerritory(
  services: Services,
  territoryId: string,
  accountId?: string,
): Promise<TerritoryRow> {
  if (!/^[0-9a-f-]{36}$/i.test(territoryId)) throw new NotFoundError("Territory");
  const [revoked] = await services.db
    .update(territories)
    .set({ status: "revoked", revokedAt: sql`coalesce(${territories.revokedAt}, now())` })
    .where(
      and(
        eq(territories.id, territoryId),
        accountId ? eq(territories.accountId, accountId) : undefined,
        eq(territories.local, false),
      ),
    )
    .returning();
  if (!revoked) {
    // Not found, or the local territory the update left alone.
    const [local] = await services.db
      .select({ id: territories.id })
      .from(territories)
      .where(and(eq(territories.id, territoryId), accountId ? eq(territories.accountId, accountId) : undefined));
    if (local) {
      throw new ConflictError(
        "territory_local",
        "This computer runs the server's own Nexus; turn it off with CYBROS_LOCAL_NEXUS=off instead",
      );
    }
    throw new NotFoundError("Territory");
  }
  const canceled = await services.db
    .update(directives)
    .set({ state: "canceled", endReason: "territory_revoked", finishedAt: sql`now()`, tokenHash: null })
    .where(
      and(
        eq(directives.territoryId, territoryId),
        inArray(directives.state, ["queued", "awaiting_approval", "leased"]),
      ),
    )
    .returning();
  for (const directive of canceled) await services.conduits.directiveFinished(directive);
  return revoked;
}

export async function listTerritories(db: Db, accountId: string): Promise<TerritoryRow[]> {
  return db
    .select()
    .from(territories)
    .where(eq(territories.accountId, accountId))
    .orderBy(asc(territories.createdAt), asc(territories.id));
}

export function presentTerritory(territory: TerritoryRow): TerritorySummary {
  return {
    id: territory.id,
    name: territory.name,
    platform: territory.platform,
    status: territory.status,
    drivers: territory.drivers,
    capacity: territory.capacity,
    running: territory.running,
    lastSeenAt: territory.lastSeenAt?.toISOString() ?? null,
    local: territory.local,
  };
}

/** Online territories that missed their last few heartbeats are offline. */
export async function markSilentTerritoriesOffline(db: Db): Promise<number> {
  const silent = await db
    .update(territories)
    .set({ status: "offline" })
    .where(
      and(
        eq(territories.status, "online"),
        sql`${territories.lastSeenAt} < now() - make_interval(secs => ${territories.heartbeatIntervalSeconds} * ${SILENT_INTERVALS_OFFLINE})`,
      ),
    )
    .returning({ id: territories.id });
  return silent.length;
}
