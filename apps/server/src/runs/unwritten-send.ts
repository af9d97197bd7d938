import type { PlannedSend } from "../conversations/index.js";
import type { RunRow } from "../conversations/present.js";
import type { Database, WriteOutcome, Writes } from "../db/index.js";
import type { Services } from "../services.js";

/**
 * How a send ended up written: with its run running (started here) or queued, or not at all (`unmet` names why:
 * "lock", the conversation is gone).
 */
export type SendOutcome = { ok: true; run: RunRow } | { ok: false; unmet: string };

/** Writes a send queued, as every send was before runs could start first, and publishes its events. */
export async function writeQueued(database: Database, plan: PlannedSend): Promise<SendOutcome> {
  const written = await database.write(plan.writes());
  if (!written.ok) return { ok: false, unmet: written.unmet };
  plan.publish(written.rows.sendEvents);
  return { ok: true, run: plan.run };
}

/** A started send that did not go on here: it was written queued (it runs from the queue), or not at all. */
export class NotStartedHere extends Error {}

/**
 * A send whose run started in this process before the send was written (decisions/0041). The run builds its
 * prompt from what it reads plus the send's message and sends the provider request; the send's rows go in the
 * run's first batch, with the reply's node (`take`, then `settle` with that batch's outcome). The batch holds only
 * if the turn got the seq the prompt was built for and no other run of the conversation is queued or running;
 * otherwise the send is written queued instead, as any send is, and the run stops here having written nothing.
 * A run that stops before its first batch (its agent failed to load, its first step is a hook) queues its send the
 * same way: the queue runs it again from its rows. `written` answers the POST.
 */
export class UnwrittenSend {
  readonly written: Promise<SendOutcome>;
  private answer!: (outcome: SendOutcome) => void;
  private fail!: (error: unknown) => void;
  private taken = false;
  private settled = false;
  /** Written queued instead: the scheduler claims it from the queue once this run has stopped here. */
  queued = false;

  constructor(
    private readonly services: Services,
    readonly plan: PlannedSend,
    /** The running run as the send's batch writes it. */
    readonly run: RunRow,
  ) {
    this.written = new Promise<SendOutcome>((resolve, reject) => {
      this.answer = resolve;
      this.fail = reject;
    });
    this.written.catch(() => {}); // the POST awaits it; the run's own failure is the executor's to report
  }

  /** Not yet written: the run holds no lease in the database. */
  get pending(): boolean {
    return !this.settled;
  }

  /**
   * The send's writes, for the front of the run's first batch, and its events, to record first among the batch's
   * own (one insert for both); once, then undefined.
   */
  take(): { writes: ReturnType<PlannedSend["startedWrites"]>; drafts: PlannedSend["drafts"] } | undefined {
    if (this.taken) return undefined;
    this.taken = true;
    return { writes: this.plan.startedWrites(this.run), drafts: this.plan.drafts };
  }

  /**
   * After the batch that carried `take()`'s writes (or its failure): answers the POST (the caller publishes the
   * events it recorded), or writes the send queued. Answers whether the run goes on here.
   */
  async settle(outcome: WriteOutcome<Writes> | { failed: unknown }): Promise<boolean> {
    if ("failed" in outcome) {
      this.settled = true;
      this.fail(outcome.failed);
      return false;
    }
    if (outcome.ok) {
      this.settled = true;
      this.answer({ ok: true, run: this.run });
      return true;
    }
    if (outcome.unmet === "startsNow") {
      await this.writeQueued();
      return false;
    }
    // One of the send's own conditions (the conversation is gone, this message was sent already), or the run's.
    this.settled = true;
    this.answer({ ok: false, unmet: outcome.unmet });
    return false;
  }

  /** The run stops before its first batch: the send is written queued (unless it was written already). */
  async queue(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    await this.writeQueued();
  }

  private async writeQueued(): Promise<void> {
    try {
      const outcome = await writeQueued(this.services.database, this.plan);
      this.queued = outcome.ok;
      this.answer(outcome);
    } catch (error) {
      this.fail(error);
    } finally {
      this.settled = true;
    }
  }
}
