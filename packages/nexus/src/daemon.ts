import fs from "node:fs";
import path from "node:path";
import type {
  ClaimedDirective,
  DirectiveFinishedRequest,
  DriverName,
  OutputStream,
  PollResponse,
} from "@cybros/protocol";
import { withArtifacts } from "./artifacts.js";
import { type ConduitsClient, ConduitsError, withRetries } from "./client.js";
import { nexusPlatform } from "./config.js";
import { bwrapWorks, runDirective } from "./drivers.js";
import { FinishedJournal, type JournalEntry } from "./journal.js";
import { performOperation } from "./operations/index.js";

export const NEXUS_VERSION = "0.1.0";
const POLL_BACKOFF_MAX_MS = 30_000;

export interface NexusOptions {
  /** Holds the finished-report journal, and the facilities unless `workspacesDir` says otherwise. */
  dir: string;
  /** Where facilities of kinds empty and repo live (`<dir>/facilities` by default), one folder per facility. */
  workspacesDir?: string;
  slots: number;
  log: (message: string) => void;
  /**
   * On stop, cancel running directives (their process groups get SIGTERM, then SIGKILL) instead of letting them
   * finish: a Nexus inside the server must not leave commands behind when the server exits.
   */
  cancelOnStop?: boolean;
}

/**
 * The daemon: keeps the territory's heartbeat, long-polls for directives while a slot is free, and runs each
 * with its driver (or performs its coding operation), reporting start, output, heartbeats and the end.
 */
/**
 * Output goes out in pieces of at most this much, well under the protocol's limit: a server on PGlite stores each
 * piece in one statement, and its WebAssembly heap keeps whatever the largest one needed.
 */
const LOG_PIECE_BYTES = 32 * 1024;
const REPLAY_RETRY_MS = 3_000;

export class Nexus {
  private readonly running = new Map<string, Promise<void>>();
  private readonly cancels = new Map<string, AbortController>();
  private slotFreed: (() => void) | undefined;
  private readonly drivers: DriverName[] = ["host"];
  private readonly journal: FinishedJournal;
  /** Set while a finished report waits in the journal for the server to answer again: the next replay's timer. */
  private replayTimer: NodeJS.Timeout | undefined;
  private stopSignal: AbortSignal | undefined;

  constructor(
    private readonly client: ConduitsClient,
    private readonly options: NexusOptions,
  ) {
    this.journal = new FinishedJournal(options.dir);
  }

  /** Runs until `stop` aborts; then stops polling and lets running directives finish (or cancels them). */
  async run(stop: AbortSignal): Promise<void> {
    this.stopSignal = stop;
    // bubblewrap is Linux's; a Nexus that reports another platform offers only the host driver.
    if (nexusPlatform().startsWith("linux") && (await bwrapWorks()).ok) this.drivers.push("bwrap");
    if (this.options.cancelOnStop) {
      stop.addEventListener("abort", () => {
        for (const cancel of this.cancels.values()) cancel.abort();
      });
    }
    const heartbeats = await this.keepTerritoryHeartbeat(stop);
    await this.replayJournal();
    let backoffMs = 1_000;
    while (!stop.aborted) {
      const free = this.options.slots - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
          stop.addEventListener("abort", () => resolve(), { once: true });
        });
        continue;
      }
      let answer: PollResponse;
      try {
        answer = await this.client.poll({ max_directives: free, supported_drivers: this.drivers }, stop);
        backoffMs = 1_000;
      } catch (error) {
        if (stop.aborted) break;
        this.options.log(`poll failed: ${(error as Error).message}`);
        if (error instanceof ConduitsError && !error.retryable && error.status !== 404) throw error;
        await sleep(backoffMs, stop);
        backoffMs = Math.min(backoffMs * 2, POLL_BACKOFF_MAX_MS);
        continue;
      }
      for (const directive of answer.directives) this.start(directive, answer.directive_heartbeat_seconds);
      if (answer.retry_after_seconds > 0) await sleep(answer.retry_after_seconds * 1000, stop);
    }
    await Promise.allSettled(this.running.values());
    await heartbeats.ended;
    clearTimeout(this.replayTimer);
  }

  private start(directive: ClaimedDirective, heartbeatSeconds: number): void {
    const done = this.execute(directive, heartbeatSeconds)
      .catch((error) => this.options.log(`directive ${directive.directive_id}: ${(error as Error).message}`))
      .finally(() => {
        this.running.delete(directive.directive_id);
        this.cancels.delete(directive.directive_id);
        this.slotFreed?.();
        this.slotFreed = undefined;
      });
    this.running.set(directive.directive_id, done);
  }

  private async execute(directive: ClaimedDirective, heartbeatSeconds: number): Promise<void> {
    const { spec } = directive;
    await withRetries(() => this.client.started(directive, NEXUS_VERSION));
    const cancel = new AbortController();
    this.cancels.set(directive.directive_id, cancel);
    if (this.options.cancelOnStop && this.stopSignal?.aborted) cancel.abort();
    const heartbeat = setInterval(() => {
      this.client
        .directiveHeartbeat(directive)
        .then((answer) => answer.cancel_requested && cancel.abort())
        .catch((error) => this.options.log(`directive heartbeat failed: ${(error as Error).message}`));
    }, heartbeatSeconds * 1000);

    // Chunks go out one at a time, in order; past the output cap nothing more is sent.
    const seqs: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
    const truncated: Record<OutputStream, boolean> = { stdout: false, stderr: false };
    let sentBytes = 0;
    let sending = Promise.resolve();
    const onOutput = (stream: OutputStream, bytes: Buffer) => {
      const room = spec.output_cap_bytes - sentBytes;
      if (bytes.length > room) truncated[stream] = true;
      const kept = bytes.subarray(0, Math.max(0, room));
      sentBytes += kept.length;
      for (let offset = 0; offset < kept.length; offset += LOG_PIECE_BYTES) {
        const piece = kept.subarray(offset, offset + LOG_PIECE_BYTES);
        const seq = seqs[stream]++;
        sending = sending.then(() =>
          this.client
            .logChunk(directive, stream, seq, piece)
            .then((answer) => {
              if (answer.truncated) truncated[stream] = true;
            })
            .catch((error) => this.options.log(`log chunk lost: ${(error as Error).message}`)),
        );
      }
    };

    const facilityRoot =
      spec.facility.kind === "path" && spec.facility.root
        ? spec.facility.root
        : path.join(this.options.workspacesDir ?? path.join(this.options.dir, "facilities"), spec.facility.id);
    // A folder named as a workspace must exist: making it would hide a mistyped path.
    const missingFolder = spec.facility.kind === "path" && !fs.existsSync(facilityRoot);
    // A coding operation is the Nexus's own work (no process); everything else runs with its driver.
    const report: DirectiveFinishedRequest = missingFolder
      ? { status: "failed", exit_code: null, result: { error: `the workspace folder ${facilityRoot} does not exist` } }
      : "operation" in spec.command
        ? await performOperation(spec, facilityRoot, cancel.signal).then(
            (outcome): DirectiveFinishedRequest => ({
              status: outcome.status,
              exit_code: outcome.exitCode,
              result: outcome.result,
            }),
          )
        : await withArtifacts(this.client, directive, facilityRoot, this.options.log, (withFolder) =>
            runDirective(withFolder, facilityRoot, { onOutput, cancel: cancel.signal }),
          ).then(
            (outcome): DirectiveFinishedRequest => ({
              status: outcome.status,
              exit_code: outcome.exitCode,
              result: outcome.error ? { error: outcome.error } : null,
              ...(outcome.diff
                ? { diff_base64: outcome.diff.bytes.toString("base64"), diff_truncated: outcome.diff.truncated }
                : {}),
            }),
          );
    clearInterval(heartbeat);
    await sending;
    await this.reportFinished({
      directive,
      report: { ...report, stdout_truncated: truncated.stdout, stderr_truncated: truncated.stderr },
    });
  }

  /**
   * Sends a finished report, journaled until the server answers it. A report the server refuses for good (the
   * directive was reaped meanwhile: 409) is dropped; one that could not reach it stays for the next start.
   */
  private async reportFinished(entry: JournalEntry): Promise<void> {
    this.journal.record(entry);
    try {
      await withRetries(() => this.client.finished(entry.directive, entry.report));
      this.journal.forget(entry.directive);
    } catch (error) {
      if (error instanceof ConduitsError && !error.retryable) this.journal.forget(entry.directive);
      else this.replaySoon();
      throw error;
    }
  }

  private async replayJournal(): Promise<void> {
    for (const entry of this.journal.pending()) {
      await this.reportFinished(entry).catch((error) => this.options.log(`replay failed: ${(error as Error).message}`));
    }
  }

  /**
   * A report could not reach the server (it is restarting, or the network is down): try the journal again in a
   * few seconds, and keep trying while it fails, so the run waiting on it goes on soon after the server is back.
   */
  private replaySoon(): void {
    if (this.replayTimer || this.stopSignal?.aborted) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.replayJournal();
    }, REPLAY_RETRY_MS);
    this.replayTimer.unref();
  }

  /** Announces the territory before the first poll, then keeps announcing it at the interval the server asks. */
  private async keepTerritoryHeartbeat(stop: AbortSignal): Promise<{ ended: Promise<void> }> {
    const beat = async () => {
      try {
        const answer = await this.client.heartbeat({
          capacity: this.options.slots,
          running: this.running.size,
          drivers: this.drivers,
          nexus_version: NEXUS_VERSION,
        });
        return answer.next_heartbeat_seconds;
      } catch (error) {
        this.options.log(`heartbeat failed: ${(error as Error).message}`);
        return 30;
      }
    };
    let nextSeconds = await beat();
    const loop = (async () => {
      while (!stop.aborted) {
        await sleep(nextSeconds * 1000, stop);
        if (!stop.aborted) nextSeconds = await beat();
      }
    })();
    return { ended: loop };
  }
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
