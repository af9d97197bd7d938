import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/index.js";
import { approvals, directives } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import type { DirectiveRow } from "./index.js";

export type ApprovalRow = typeof approvals.$inferSelect;
export type ApprovalDecision = ApprovalRow["decision"];

/** The one answer a directive that waited for approval gets: approved, rejected, or withdrawn by a cancel. */
export async function recordApproval(
  db: Db,
  directive: DirectiveRow,
  answer: { decision: ApprovalDecision; reason?: string | null; userId?: string | null },
): Promise<void> {
  await db.insert(approvals).values({
    id: uuidv7(),
    accountId: directive.accountId,
    directiveId: directive.id,
    decision: answer.decision,
    reason: answer.reason ?? null,
    decidedBy: answer.userId ?? null,
  });
}

/**
 * A person's answer to a directive waiting for approval. Approved: it is queued (and its territory's polls woken);
 * rejected: it ends `canceled` with end reason `rejected` (and its waiter is told). A directive that is not
 * waiting, or of another account when `accountId` is given, is a conflict or not found.
 */
export async function answerDirectiveApproval(
  services: Pick<Services, "db" | "conduits">,
  input: { directiveId: string; approved: boolean; reason?: string; userId: string; accountId?: string },
): Promise<DirectiveRow> {
  // A malformed id is simply not found (and never reaches Postgres, which would reject it as a uuid).
  if (!z.uuid().safeParse(input.directiveId).success) throw new NotFoundError("Directive");
  const answered = await services.db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(directives)
      .where(
        and(
          eq(directives.id, input.directiveId),
          input.accountId ? eq(directives.accountId, input.accountId) : undefined,
        ),
      )
      .for("update");
    if (!current) throw new NotFoundError("Directive");
    if (current.state !== "awaiting_approval") {
      throw new ConflictError("no_approval_pending", `The directive is not waiting for approval (${current.state})`);
    }
    await recordApproval(tx, current, {
      decision: input.approved ? "approved" : "rejected",
      reason: input.reason,
      userId: input.userId,
    });
    const [row] = await tx
      .update(directives)
      .set(
        input.approved
          ? { state: "queued", queuedAt: sql`now()` }
          : { state: "canceled", endReason: "rejected", finishedAt: sql`now()` },
      )
      .where(eq(directives.id, current.id))
      .returning();
    return row!;
  });
  if (answered.state === "queued") services.conduits.claimable(answered.territoryId);
  else await services.conduits.directiveFinished(answered);
  return answered;
}
