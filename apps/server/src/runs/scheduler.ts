import os from "node:os";
import type { PlannedSend } from "../conversations/index.js";
import type { RunRow } from "../conversations/present.js";
import type { Database } from "../db/index.js";
import { runQueries } from "../db/queries/runs.js";
import type { Logger } from "../log.js";
import type { Services } from "../services.js";
import { executeRun, SHUTDOWN } from "./executor.js";
import { claimNextRun, claimRun, LEASE_MS } from "./store.js";
import { type SendOutcome, UnwrittenSend, writeQueued } from "./unwritten-send.js";

const CANCEL_CHANNEL = "cybros_run_cancel";

/**
 * Runs in their start phase (claim → first provider request, about twenty statements) at once. PGlite executes
 * one statement at a time (on its own thread, decisions/0009): 25 runs starting in lockstep each reached the
 * provider only after all 25 had started. First come, first started; the rest stay queued for milliseconds.
 */
const STARTING_AT_ONCE = { pglite: 4, postgres: 16 } as const;

/** A counting semaphore whose waiters enter in arrival order; `leave` may be called more than once. */
class Gate {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async enter(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * Starts runs the moment they are queued, in this process, and keeps at most one running per conversation; resumes
 * a run the moment its wait ends. Durability comes from the database: a run is its rows, claimed with a lease, so
 * if this process dies, the reaper's sweep (at start, then every minute as a periodic job) starts what was queued
 * and resumes what was running or woken once its lease has lapsed.
 */
export class RunScheduler {
  readonly workerId = `${os.hostname()}:${process.pid}:${Date.now().toString(36)}`;
  private readonly active = new Map<
    string,
    { conversationId: string; controller: AbortController; done: Promise<void> }
  >();
  private readonly kicking = new Map<string, Promise<void>>();
  /** Sends being written with their run started, by conversation: a later send there waits for it. */
  private readonly sending = new Map<string, Promise<SendOutcome>>();
  /** The same sends by run: clients know the run from its streamed text before its row is written. */
  private readonly unwrittenRuns = new Map<string, Promise<SendOutcome>>();
  /**
   * Conversations that may have a queued run this process has not claimed, with a count of kicks so that a claim
   * that saw no more queued runs does not clear a kick made after it began. On PGlite this process is the only one,
   * so a run's end claims the next only when one may be waiting: most runs end with nothing queued after them.
   */
  private readonly mayHaveQueued = new Map<string, number>();
  private stopping = false;
  private readonly starting: Gate;
  private services!: Services;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {
    this.starting = new Gate(STARTING_AT_ONCE[database.kind]);
  }

  async start(services: Services): Promise<void> {
    this.services = services;
    if (this.database.kind === "postgres") {
      this.unlisten = await this.database.listen(CANCEL_CHANNEL, (runId) => this.abortLocal(runId, "canceled"));
    }
  }

  /**
   * Writes a send and starts its run. When no run of the conversation is queued or running here, the run starts at
   * once, before the send is written (its first batch writes it, decisions/0041): the provider request goes out as
   * soon as the prompt is built. Otherwise the send is written queued, after any send still being written here
   * (sends keep their order), and claimed from the queue. Answers once the send is written.
   */
  async send(plan: PlannedSend): Promise<SendOutcome> {
    const { conversationId } = plan;
    const earlier = this.sending.get(conversationId);
    if (this.stopping || earlier || this.busyHere(conversationId)) {
      await earlier?.catch(() => {});
      const outcome = await writeQueued(this.database, plan);
      if (outcome.ok) void this.kick(conversationId);
      return outcome;
    }
    const now = new Date();
    const run: RunRow = {
      ...plan.run,
      state: "running",
      workerId: this.workerId,
      leaseExpiresAt: new Date(now.getTime() + LEASE_MS),
      startedAt: now,
      heartbeatAt: now,
    };
    const send = new UnwrittenSend(this.services, plan, run);
    const written = send.written.finally(() => {
      if (this.sending.get(conversationId) === written) this.sending.delete(conversationId);
      this.unwrittenRuns.delete(run.id);
    });
    this.sending.set(conversationId, written);
    this.unwrittenRuns.set(run.id, written);
    this.execute(run, false, () => {}, send);
    this.log.info({ runId: run.id, conversationId }, "run started");
    return written;
  }

  /**
   * Settles once the run's row is written, when it belongs to a send started here and still being written
   * (decisions/0042: a page may Stop a reply it sees streaming before then); at once for any other run.
   */
  async whenWritten(runId: string): Promise<void> {
    await this.unwrittenRuns.get(runId)?.catch(() => {});
  }

  /** A run of the conversation is running, starting or may be queued in this process. */
  private busyHere(conversationId: string): boolean {
    if (this.kicking.has(conversationId) || this.mayHaveQueued.has(conversationId)) return true;
    for (const entry of this.active.values()) if (entry.conversationId === conversationId) return true;
    return false;
  }

  /** A queued run (already committed): start it in this process now. */
  async enqueue(conversationId: string, _runId: string): Promise<void> {
    void this.kick(conversationId);
  }

  /** Claims and starts the conversation's next queued run unless one is running. Safe to call any time. */
  kick(conversationId: string): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.mayHaveQueued.set(conversationId, (this.mayHaveQueued.get(conversationId) ?? 0) + 1);
    // One claim attempt at a time per conversation in this process; a second kick waits for the first.
    const previous = this.kicking.get(conversationId) ?? Promise.resolve();
    const next = previous.then(() => this.claimAndStart(conversationId));
    this.kicking.set(conversationId, next);
    void next.finally(() => {
      if (this.kicking.get(conversationId) === next) this.kicking.delete(conversationId);
    });
    return next;
  }

  private async claimAndStart(conversationId: string): Promise<void> {
    if (this.stopping) return;
    const kicks = this.mayHaveQueued.get(conversationId);
    const leave = await this.starting.enter();
    if (this.stopping) return leave();
    let claimed: Awaited<ReturnType<typeof claimNextRun>>;
    try {
      claimed = await claimNextRun(this.services, conversationId, this.workerId);
    } catch (error) {
      this.log.error({ err: error, conversationId }, "claiming a run failed");
      return leave();
    }
    const run = claimed?.run;
    // Nothing queued is left: this claim saw no other, or none was claimed and none of the conversation runs here
    // (one running elsewhere would be on PostgreSQL, where every run's end claims anyway).
    const noneLeft = claimed
      ? !claimed.moreQueued
      : ![...this.active.values()].some((entry) => entry.conversationId === conversationId);
    if (noneLeft && this.mayHaveQueued.get(conversationId) === kicks) this.mayHaveQueued.delete(conversationId);
    if (!run) return leave();
    this.execute(run, false, leave);
    this.log.info({ runId: run.id, conversationId }, "run started");
  }

  /**
   * A running run that nobody advances (its wait ended, or its process died): claim its lease and continue it here.
   * Losing the claim to another process is fine: that one continues it.
   */
  resume(runId: string, leaseEndedBefore?: Date): void {
    if (this.stopping || this.active.has(runId)) return;
    void (async () => {
      const leave = await this.starting.enter();
      try {
        const run = await claimRun(this.services, runId, this.workerId, leaseEndedBefore);
        if (!run || this.stopping) return leave();
        this.log.info({ runId, conversationId: run.conversationId }, "run resumed");
        this.execute(run, true, leave);
      } catch (error) {
        this.log.error({ err: error, runId }, "resuming a run failed");
        leave();
      }
    })();
  }

  private execute(run: RunRow, resumed: boolean, leave: () => void, send?: UnwrittenSend): void {
    const controller = new AbortController();
    const { conversationId } = run;
    const done = executeRun(this.services, run, controller.signal, {
      workerId: this.workerId,
      resumed,
      onStarted: leave,
      send,
    })
      .catch((error) => this.log.error({ err: error, runId: run.id }, "run executor crashed"))
      .finally(() => {
        leave();
        this.active.delete(run.id);
        if (send?.queued) this.mayHaveQueued.set(conversationId, (this.mayHaveQueued.get(conversationId) ?? 0) + 1);
        // A resumed run blocked its conversation while it waited (or while its process was gone) without running
        // here: a send queued then saw its claim fail and was forgotten, so its end claims regardless.
        const claimNext = this.database.kind === "postgres" || resumed || this.mayHaveQueued.has(conversationId);
        if (claimNext) void this.kick(conversationId);
      });
    this.active.set(run.id, { conversationId, controller, done });
  }

  private abortLocal(runId: string, reason: string): boolean {
    const entry = this.active.get(runId);
    if (!entry) return false;
    entry.controller.abort(reason);
    return true;
  }

  /** Stops advancing a run in this process only (its lease is gone); answers whether it was advancing here. */
  stopHere(runId: string, reason: string): boolean {
    return this.abortLocal(runId, reason);
  }

  /** Aborts a run wherever it executes: here directly, elsewhere through a notification. */
  async abort(runId: string): Promise<void> {
    if (this.abortLocal(runId, "canceled")) return;
    if (this.database.kind === "postgres") await this.database.notify(CANCEL_CHANNEL, runId);
  }

  /** Before a conversation is deleted: stop its runs so nothing writes to rows about to vanish. */
  async cancelAllFor(conversationId: string): Promise<void> {
    const runIds = await runQueries(this.services.db).unfinishedOf(conversationId);
    for (const runId of runIds) await this.abort(runId);
    const local = [...this.active.values()].filter((entry) => entry.conversationId === conversationId);
    await Promise.all(local.map((entry) => entry.done));
  }

  isRunningHere(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Graceful shutdown: no new runs; running ones are handed back as their rows stand, for the next start to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.unlisten?.();
    for (const entry of this.active.values()) entry.controller.abort(SHUTDOWN);
    await Promise.all([...this.active.values()].map((entry) => entry.done));
  }
}
