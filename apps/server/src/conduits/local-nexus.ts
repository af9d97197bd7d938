import os from "node:os";
import path from "node:path";
import { nexusPlatform, type RunningNexus, startNexus } from "cybros-nexus";
import { and, eq, sql } from "drizzle-orm";
import type { Config } from "../config.js";
import { territories } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import { HEARTBEAT_INTERVAL_SECONDS } from "./index.js";
import type { TerritoryRow } from "./territories.js";
import { newSecret } from "./tokens.js";

/**
 * The embedded local Nexus (decisions/0033): the account's "This computer" territory, served by a Nexus that
 * runs inside the server process and talks to the server's own `/conduits/v1` over loopback HTTP, so coding
 * tools work with no setup. `CYBROS_LOCAL_NEXUS=off` turns it off.
 */

/** The machine's host name (the UI marks the territory "This computer"), refreshed at every start. */
export function localTerritoryName(): string {
  return os.hostname().trim().slice(0, 120) || "This computer";
}
/** Directives the local Nexus runs at once: one per facility, so this many conversations' commands in parallel. */
export const LOCAL_NEXUS_SLOTS = 4;

/** The account's local territory, or undefined when no server of this account ever ran a local Nexus. */
export async function localTerritory(services: Pick<Services, "db">, accountId: string) {
  const [row] = await services.db
    .select()
    .from(territories)
    .where(and(eq(territories.accountId, accountId), eq(territories.local, true)));
  return row as TerritoryRow | undefined;
}

/**
 * Where the local Nexus keeps things, inside the data folder: its finished-report journal (`nexus/`) and the
 * folders of facilities of kinds empty and repo (`workspaces/<facility id>`).
 */
export function localNexusDirs(config: Pick<Config, "dataDir">): { nexusDir: string; workspacesDir: string } {
  return { nexusDir: path.join(config.dataDir, "nexus"), workspacesDir: path.join(config.dataDir, "workspaces") };
}

/**
 * Finds or creates the account's local territory and gives it a new token; the previous one stops working.
 * The token lives only in this process's memory: no enrollment hop, nothing stored but its hash. A revoked
 * local territory is pending again (the server itself vouches for it).
 */
export async function claimLocalTerritory(
  services: Pick<Services, "db">,
  accountId: string,
): Promise<{ territory: TerritoryRow; token: string }> {
  const secret = newSecret("cyt");
  const [created] = await services.db
    .insert(territories)
    .values({
      id: uuidv7(),
      accountId,
      name: localTerritoryName(),
      platform: nexusPlatform(),
      capacity: LOCAL_NEXUS_SLOTS,
      status: "pending",
      tokenHash: secret.hash,
      heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
      local: true,
    })
    // Another process of the account created it first (territories_one_local_idx): take that one over.
    .onConflictDoNothing()
    .returning();
  if (created) return { territory: created, token: secret.token };
  const [claimed] = await services.db
    .update(territories)
    .set({
      tokenHash: secret.hash,
      name: localTerritoryName(),
      platform: nexusPlatform(),
      status: sql`CASE WHEN ${territories.status} = 'revoked' THEN 'pending' ELSE ${territories.status} END`,
      revokedAt: null,
    })
    .where(and(eq(territories.accountId, accountId), eq(territories.local, true)))
    .returning();
  if (!claimed) throw new Error("The local territory could be neither created nor found");
  return { territory: claimed, token: secret.token };
}

export interface LocalNexus {
  territory: TerritoryRow;
  /** Starts polling once the server listens; `serverUrl` is its own address (loopback when bound to all). */
  start(serverUrl: string): void;
  /** Cancels what runs (reporting each end), stops polling. Call before the HTTP server closes. */
  stop(): Promise<void>;
}

/** Claims the local territory now (so it is listed before the first request); the daemon starts with `start`. */
export async function prepareLocalNexus(services: Services, accountId: string): Promise<LocalNexus> {
  const { territory, token } = await claimLocalTerritory(services, accountId);
  const { nexusDir, workspacesDir } = localNexusDirs(services.config);
  const log = services.log.child({ component: "local-nexus", territoryId: territory.id });
  let running: RunningNexus | undefined;
  return {
    territory,
    start: (serverUrl) => {
      if (running) return;
      running = startNexus({
        serverUrl,
        token,
        dataDir: nexusDir,
        workspacesDir,
        capacity: LOCAL_NEXUS_SLOTS,
        log: (message) => log.warn(message),
      });
      log.info({ workspacesDir }, "local Nexus started");
    },
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
  };
}
