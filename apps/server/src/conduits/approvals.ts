import { and, eq, sql } from "drizzle-orm";
import { approvals, directives } from "../db/schema.js";
import { ConflictError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import type { DirectiveRow } from "./index.js";

/** Placeholder until the policy work lands: a person's answer to a directive awaiting approval. */
export async function answerDirectiveApproval(
  services: Services,
  input: { directiveId: string; approved: boolean; reason?: string; userId: string },
): Promise<DirectiveRow> {
  const ended = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(directives)
      .set(
        input.approved
          ? { state: "queued", queuedAt: sql`now()` }
          : { state: "canceled", endReason: "rejected", finishedAt: sql`now()` },
      )
      .where(and(eq(directives.id, input.directiveId), eq(directives.state, "awaiting_approval")))
      .returning();
    if (!row) throw new ConflictError("no_approval_pending", "The command is not waiting for an approval");
    await tx.insert(approvals).values({
      id: uuidv7(),
      accountId: row.accountId,
      directiveId: row.id,
      decision: input.approved ? "approved" : "rejected",
      reason: input.reason ?? null,
      decidedBy: input.userId,
    });
    return row;
  });
  if (input.approved) services.conduits.claimable(ended.territoryId);
  else await services.conduits.directiveFinished(ended);
  return ended;
}
