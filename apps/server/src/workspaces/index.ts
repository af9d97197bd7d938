import type { ConversationDetail, FacilityKind } from "@cybros/protocol";
import { and, desc, eq, like, ne, or, sql } from "drizzle-orm";
import { localTerritory } from "../conduits/local-nexus.js";
import type { Db } from "../db/index.js";
import { agentPrograms, conversations, facilities, territories } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";

/**
 * Workspaces: where the tools that run as directives do their work. A workspace is a facility (a folder on a
 * territory). A conversation's is the one set for it (workspace_set), else its agent's, else a scratch folder of
 * its own on the embedded local territory, made on first use and kept on the conversation.
 */
export interface Workspace {
  facilityId: string;
  kind: FacilityKind;
  /** The folder on its territory; null for a scratch folder the Nexus places itself. */
  root: string | null;
  territory: { id: string; name: string; platform: string; local: boolean; status: string };
}

/** No workspace can be found: the message says what to do, for the model and the person. */
export interface NoWorkspace {
  missing: string;
}

export interface WorkspaceOwner {
  accountId: string;
  conversationId: string;
  agentId: string;
}

const NO_TERRITORY =
  "No workspace is set and no machine is connected to run commands on. Connect one under System settings → " +
  "Territories (or start Cybros with its local Nexus on), then call workspace_set with a folder path.";

export async function workspaceFor(services: Services, owner: WorkspaceOwner): Promise<Workspace | NoWorkspace> {
  const [row] = await services.db
    .select({ conversation: conversations.workspaceFacilityId, agent: agentPrograms.workspaceFacilityId })
    .from(conversations)
    .innerJoin(agentPrograms, eq(agentPrograms.id, conversations.agentProgramId))
    .where(and(eq(conversations.id, owner.conversationId), eq(conversations.accountId, owner.accountId)));
  for (const facilityId of [row?.conversation, row?.agent]) {
    if (!facilityId) continue;
    const workspace = await facilityWorkspace(services.db, facilityId);
    if (workspace && workspace.territory.status !== "revoked") return workspace;
  }
  const local = await localTerritory(services, owner.accountId);
  if (!local || local.status === "revoked") return { missing: NO_TERRITORY };
  const facilityId = uuidv7();
  await services.db.transaction(async (tx) => {
    await tx
      .insert(facilities)
      .values({ id: facilityId, accountId: owner.accountId, territoryId: local.id, kind: "empty" });
    await tx
      .update(conversations)
      .set({ workspaceFacilityId: facilityId })
      .where(and(eq(conversations.id, owner.conversationId), sql`${conversations.workspaceFacilityId} is null`));
  });
  return (await workspaceFor(services, owner)) as Workspace;
}

/**
 * A folder on a territory as a workspace: the facility for it (one per folder, found again by its path), stored
 * on the conversation, and on the agent too when `forAgent`.
 */
export async function setWorkspace(
  services: Services,
  owner: WorkspaceOwner,
  place: { territoryId: string; root: string; forAgent?: boolean },
): Promise<Workspace> {
  const facilityId = await folderFacility(services.db, owner.accountId, place.territoryId, place.root);
  await services.db
    .update(conversations)
    .set({ workspaceFacilityId: facilityId })
    .where(and(eq(conversations.id, owner.conversationId), eq(conversations.accountId, owner.accountId)));
  if (place.forAgent) {
    await services.db
      .update(agentPrograms)
      .set({ workspaceFacilityId: facilityId })
      .where(and(eq(agentPrograms.id, owner.agentId), eq(agentPrograms.accountId, owner.accountId)));
  }
  return (await facilityWorkspace(services.db, facilityId))!;
}

/** The agent's own folder on the local territory, where its hooks and custom tools run; undefined without one. */
export async function agentFolderFacility(
  services: Services,
  agent: { accountId: string; localPath: string },
): Promise<Workspace | undefined> {
  const local = await localTerritory(services, agent.accountId);
  if (!local || local.status === "revoked") return undefined;
  return facilityWorkspace(services.db, await folderFacility(services.db, agent.accountId, local.id, agent.localPath));
}

/** The purpose of the scratch folder macOS tools share on a Mac territory. */
const MAC_TOOLS = "mac_tools";

/**
 * Where macOS tools run: a scratch folder kept on an online Mac (a territory whose Nexus reports a `darwin` platform,
 * e.g. `darwin-arm64`), one per territory and shared by every conversation; the account's local territory first when
 * it is a Mac, else the Mac seen last. With no Mac online, a message that says so plainly and names the offline ones.
 */
export async function darwinWorkspace(services: Services, accountId: string): Promise<Workspace | NoWorkspace> {
  const macs = await services.db
    .select()
    .from(territories)
    .where(
      and(
        eq(territories.accountId, accountId),
        ne(territories.status, "revoked"),
        or(eq(territories.platform, "darwin"), like(territories.platform, "darwin-%")),
      ),
    )
    .orderBy(desc(territories.local), sql`${territories.lastSeenAt} desc nulls last`);
  const mac = macs.find((territory) => territory.status === "online");
  if (!mac) return { missing: noMacMessage(macs) };
  await services.db
    .insert(facilities)
    .values({ id: uuidv7(), accountId, territoryId: mac.id, kind: "empty", purpose: MAC_TOOLS })
    .onConflictDoNothing();
  const [facility] = await services.db
    .select({ id: facilities.id })
    .from(facilities)
    .where(and(eq(facilities.territoryId, mac.id), eq(facilities.purpose, MAC_TOOLS)));
  return (await facilityWorkspace(services.db, facility!.id))!;
}

function noMacMessage(macs: { name: string; status: string }[]): string {
  const enroll = "macOS tools run on a Mac with a Nexus: add one under System settings → Territories → Add a machine.";
  if (macs.length === 0) return `No Mac is connected. ${enroll}`;
  const names = macs.map((mac) => `"${mac.name}"`).join(", ");
  const verb = macs.length === 1 ? "is" : "are";
  return (
    `No Mac is connected: ${names} ${verb} offline. Start the Nexus on ${macs.length === 1 ? "it" : "one of them"} ` +
    "(cybros-nexus run) and try again."
  );
}

/** The facility for a folder of a territory, made once: concurrent callers get the same one. */
export async function folderFacility(db: Db, accountId: string, territoryId: string, root: string): Promise<string> {
  await db
    .insert(facilities)
    .values({ id: uuidv7(), accountId, territoryId, kind: "path", root })
    .onConflictDoNothing();
  const [facility] = await db
    .select({ id: facilities.id })
    .from(facilities)
    .where(and(eq(facilities.territoryId, territoryId), eq(facilities.root, root)));
  return facility!.id;
}

export async function facilityWorkspace(db: Db, facilityId: string): Promise<Workspace | undefined> {
  const [row] = await db
    .select({ facility: facilities, territory: territories })
    .from(facilities)
    .innerJoin(territories, eq(territories.id, facilities.territoryId))
    .where(eq(facilities.id, facilityId));
  if (!row) return undefined;
  const { facility, territory } = row;
  return {
    facilityId: facility.id,
    kind: facility.kind,
    root: facility.root,
    territory: {
      id: territory.id,
      name: territory.name,
      platform: territory.platform,
      local: territory.local,
      status: territory.status,
    },
  };
}

/** The workspace a conversation's header shows: the one it has, or its agent's; nothing is made to show it. */
export async function workspaceShown(
  services: Services,
  conversation: { workspaceFacilityId: string | null; agentProgramId: string },
): Promise<ConversationDetail["workspace"]> {
  let facilityId = conversation.workspaceFacilityId;
  if (!facilityId) {
    const [agent] = await services.db
      .select({ facilityId: agentPrograms.workspaceFacilityId })
      .from(agentPrograms)
      .where(eq(agentPrograms.id, conversation.agentProgramId));
    facilityId = agent?.facilityId ?? null;
  }
  const workspace = facilityId ? await facilityWorkspace(services.db, facilityId) : undefined;
  if (!workspace) return null;
  return { territory: workspace.territory.name, path: workspace.root, online: workspace.territory.status === "online" };
}
