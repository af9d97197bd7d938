import { type DirectiveRequest, type DirectiveSpec, directiveRequest, type FacilityKind } from "@cybros/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type BatchStatement, batchStatement, type Db } from "../db/index.js";
import { directives, facilities, territories } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../errors.js";
import { parseWith } from "../http/validate.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import { recordApproval } from "./approvals.js";
import type { DirectiveRow } from "./index.js";

export type FacilityRow = typeof facilities.$inferSelect;

/** A workspace on a territory. `root` is required for kind `path` (an absolute path there) and unused otherwise. */
export async function createFacility(
  db: Db,
  input: { territoryId: string; kind: FacilityKind; root?: string; repoUrl?: string },
): Promise<FacilityRow> {
  const [territory] = await db.select().from(territories).where(eq(territories.id, input.territoryId));
  if (!territory) throw new NotFoundError("Territory");
  const [facility] = await db
    .insert(facilities)
    .values({
      id: uuidv7(),
      accountId: territory.accountId,
      territoryId: territory.id,
      kind: input.kind,
      root: input.kind === "path" ? (input.root ?? null) : null,
      repoUrl: input.repoUrl ?? null,
    })
    .returning();
  return facility!;
}

/** What a directive row needs that the tool call and policy decide. */
export interface DirectivePlan {
  facility: Pick<FacilityRow, "id" | "accountId" | "territoryId" | "kind" | "root">;
  request: DirectiveRequest;
  runStepId?: string;
  /** Set when policy asks a person first: the directive waits `awaiting_approval`, and these say why. */
  approvalReasons?: string[];
}

/**
 * A directive's row and the statement inserting it, for a caller that writes it in its own transaction (the
 * tool-call step writes it with the step that waits on it). After the commit, call `conduits.claimable`.
 */
export function directiveInsert(
  services: Services,
  plan: DirectivePlan,
): { row: DirectiveRow; statement: BatchStatement } {
  const request = parseWith(directiveRequest, plan.request);
  const { facility } = plan;
  const id = uuidv7();
  const spec: DirectiveSpec = {
    ...request,
    directive_id: id,
    facility: { id: facility.id, kind: facility.kind, root: facility.root },
  };
  const row: DirectiveRow = {
    ...EMPTY_DIRECTIVE,
    id,
    accountId: facility.accountId,
    facilityId: facility.id,
    territoryId: facility.territoryId,
    runStepId: plan.runStepId ?? null,
    state: plan.approvalReasons?.length ? "awaiting_approval" : "queued",
    approvalReasons: plan.approvalReasons?.length ? plan.approvalReasons : null,
    driver: request.driver,
    spec,
    timeoutSeconds: request.timeout_seconds,
    outputCapBytes: request.output_cap_bytes,
    queuedAt: new Date(),
  };
  return { row, statement: batchStatement(services.db.insert(directives).values(row)) };
}

const EMPTY_DIRECTIVE = {
  tokenHash: null,
  leaseExpiresAt: null,
  cancelRequestedAt: null,
  outputBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  diffTruncated: false,
  exitCode: null,
  result: null,
  diff: null,
  resultHash: null,
  endReason: null,
  nexusVersion: null,
  leasedAt: null,
  startedAt: null,
  heartbeatAt: null,
  finishedAt: null,
} satisfies Partial<DirectiveRow>;

/** Enqueues a directive for a facility on its own. The facility's territory is told at once, so a held poll claims it. */
export async function createDirective(
  services: Services,
  input: { facilityId: string; request: DirectiveRequest; runStepId?: string },
): Promise<DirectiveRow> {
  const [facility] = await services.db.select().from(facilities).where(eq(facilities.id, input.facilityId));
  if (!facility) throw new NotFoundError("Facility");
  const { row, statement } = directiveInsert(services, {
    facility,
    request: input.request,
    runStepId: input.runStepId,
  });
  await services.database.batch([statement]);
  services.conduits.claimable(facility.territoryId);
  return row;
}

/**
 * Cancels a directive: one not yet handed out ends now; a leased or running one is asked to stop (its Nexus
 * reads `cancel_requested` on its next heartbeat and reports `canceled`). An ended one is a conflict.
 */
export async function cancelDirective(services: Services, directiveId: string): Promise<DirectiveRow> {
  const ended = await services.db.transaction(async (tx) => {
    const [current] = await tx
      .select({ state: directives.state })
      .from(directives)
      .where(and(eq(directives.id, directiveId), inArray(directives.state, ["queued", "awaiting_approval"])))
      .for("update");
    if (!current) return undefined;
    const [row] = await tx
      .update(directives)
      .set({ state: "canceled", finishedAt: sql`now()`, endReason: "canceled_before_start" })
      .where(eq(directives.id, directiveId))
      .returning();
    // The question it waited on is withdrawn: the approval record says so, with no one's answer.
    if (current.state === "awaiting_approval") await recordApproval(tx, row!, { decision: "withdrawn" });
    return row;
  });
  if (ended) {
    await services.conduits.directiveFinished(ended);
    return ended;
  }
  const [asked] = await services.db
    .update(directives)
    .set({ cancelRequestedAt: sql`coalesce(${directives.cancelRequestedAt}, now())` })
    .where(and(eq(directives.id, directiveId), inArray(directives.state, ["leased", "running"])))
    .returning();
  if (asked) return asked;
  const [existing] = await services.db.select().from(directives).where(eq(directives.id, directiveId));
  if (!existing) throw new NotFoundError("Directive");
  throw new ConflictError("directive_ended", `The directive already ended (${existing.state})`);
}
