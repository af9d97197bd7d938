import type { TerritoryHeartbeatRequest, TerritoryHeartbeatResponse } from "@cybros/protocol";
import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { territories } from "../db/schema.js";
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

/** Refuses the territory's token from now on. Its running directives are reaped once their leases lapse. */
export async function revokeTerritory(db: Db, territoryId: string): Promise<void> {
  await db.update(territories).set({ status: "revoked", revokedAt: sql`now()` }).where(eq(territories.id, territoryId));
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
