import type { NexusConfig, OutputStream } from "@cybros/protocol";
import { MAX_LOG_CHUNK_BYTES, MAX_POLL_WAIT_SECONDS } from "@cybros/protocol";
import type { Database } from "../db/index.js";
import type { directives } from "../db/schema.js";
import type { Logger } from "../log.js";

/**
 * Conduits: the control plane a Nexus talks to (`/conduits/v1`, routes.ts). Territories enroll
 * (enrollment.ts) and report (territories.ts); directives are created here (directives.ts), claimed by long polls
 * (claims.ts), reported on by the Nexus running them (reports.ts) and reaped when it goes silent (reaper.ts).
 */

export type DirectiveRow = typeof directives.$inferSelect;
export type DirectiveFinishedListener = (directive: DirectiveRow) => Promise<void> | void;
/** Output a Nexus reported, as stored (cut to the directive's cap). */
export type DirectiveOutputListener = (output: {
  directive: DirectiveRow;
  stream: OutputStream;
  seq: number;
  bytes: Buffer;
}) => void;

export const HEARTBEAT_INTERVAL_SECONDS = 30;
/** A territory silent for this many heartbeat intervals is offline. */
export const SILENT_INTERVALS_OFFLINE = 3;
/** Short, because a heartbeat's answer is how a cancel reaches the running command. */
export const DIRECTIVE_HEARTBEAT_INTERVAL_SECONDS = 1;
export const LEASE_SECONDS = 60;
/** Past its timeout a running directive gets this long to report before the server ends it. */
export const TIMEOUT_GRACE_SECONDS = 30;

export const nexusConfig: NexusConfig = {
  heartbeat_interval_seconds: HEARTBEAT_INTERVAL_SECONDS,
  directive_heartbeat_interval_seconds: DIRECTIVE_HEARTBEAT_INTERVAL_SECONDS,
  lease_seconds: LEASE_SECONDS,
  poll_wait_seconds: MAX_POLL_WAIT_SECONDS,
  max_log_chunk_bytes: MAX_LOG_CHUNK_BYTES,
};

const CLAIMABLE_CHANNEL = "cybros_directives";

/**
 * What a process holds for Conduits: the wake-up of held polls (local, and other processes through
 * LISTEN/NOTIFY on PostgreSQL) and the listeners told when a directive reaches a final state.
 */
export class Conduits {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly finishedListeners = new Set<DirectiveFinishedListener>();
  private readonly outputListeners = new Set<DirectiveOutputListener>();
  private unlisten: (() => Promise<void>) | undefined;
  private stopped = false;

  /** Set once the process shuts down: held polls answer at once rather than wait. */
  get stopping(): boolean {
    return this.stopped;
  }

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.database.kind !== "postgres") return;
    this.unlisten = await this.database.listen(CLAIMABLE_CHANNEL, (territoryId) => this.wakeHere(territoryId));
  }

  /** Releases every held poll (they answer with what they can claim) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const territoryId of [...this.waiters.keys()]) this.wakeHere(territoryId);
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  /** A directive of this territory may have become claimable (created, requeued, its facility freed). Call after the commit. */
  claimable(territoryId: string): void {
    this.wakeHere(territoryId);
    if (this.database.kind === "postgres") {
      this.database
        .notify(CLAIMABLE_CHANNEL, territoryId)
        .catch((error) => this.log.warn({ err: error }, "directive notify failed"));
    }
  }

  /**
   * Arms a wake-up for this territory's polls. Arm it before looking for work, then wait on it: a directive
   * committed between the look and the wait still wakes the poll.
   */
  armWakeUp(territoryId: string): { wait: (ms: number, abort?: AbortSignal) => Promise<void>; disarm: () => void } {
    let wake!: () => void;
    let woken = this.stopped;
    const woke = new Promise<void>((resolve) => {
      wake = () => {
        woken = true;
        resolve();
      };
    });
    let set = this.waiters.get(territoryId);
    if (!set) {
      set = new Set();
      this.waiters.set(territoryId, set);
    }
    set.add(wake);
    const disarm = () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(territoryId) === set) this.waiters.delete(territoryId);
    };
    const wait = async (ms: number, abort?: AbortSignal) => {
      if (woken || ms <= 0 || abort?.aborted) return disarm();
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => wake();
      abort?.addEventListener("abort", onAbort, { once: true });
      await Promise.race([woke, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
      abort?.removeEventListener("abort", onAbort);
      disarm();
    };
    return { wait, disarm };
  }

  /** How many polls of this territory are held here, waiting for work. */
  heldPolls(territoryId: string): number {
    return this.waiters.get(territoryId)?.size ?? 0;
  }

  /** The hook a directive's waiter hangs on (the run step that awaits it): called once per final state. */
  onDirectiveFinished(listener: DirectiveFinishedListener): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** Tells the listeners; a listener's failure is logged and does not undo the directive's end. */
  async directiveFinished(directive: DirectiveRow): Promise<void> {
    for (const listener of this.finishedListeners) {
      try {
        await listener(directive);
      } catch (error) {
        this.log.error({ err: error, directiveId: directive.id }, "directive finished listener failed");
      }
    }
  }

  /** The hook a directive's live view hangs on: called once per stored chunk of output. */
  onOutput(listener: DirectiveOutputListener): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  outputArrived(output: Parameters<DirectiveOutputListener>[0]): void {
    for (const listener of this.outputListeners) {
      try {
        listener(output);
      } catch (error) {
        this.log.error({ err: error, directiveId: output.directive.id }, "directive output listener failed");
      }
    }
  }

  private wakeHere(territoryId: string): void {
    const set = this.waiters.get(territoryId);
    if (!set) return;
    this.waiters.delete(territoryId);
    for (const wake of set) wake();
  }
}

export { cancelDirective, createDirective, createFacility } from "./directives.js";
export { createEnrollmentToken, enroll } from "./enrollment.js";
export { reapConduits } from "./reaper.js";
export { revokeTerritory } from "./territories.js";
