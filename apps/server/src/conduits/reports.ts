import { createHash } from "node:crypto";
import {
  type DirectiveFinishedResponse,
  type DirectiveHeartbeatResponse,
  type DirectiveStartedResponse,
  type directiveFinishedRequest,
  finalDirectiveStates,
  type LogChunkRequest,
  type LogChunkResponse,
  MAX_DIFF_BYTES,
  MAX_LOG_CHUNK_BYTES,
} from "@cybros/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import { directiveLogChunks, directives } from "../db/schema.js";
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from "../errors.js";
import type { Services } from "../services.js";
import { type DirectiveRow, LEASE_SECONDS } from "./index.js";
import type { TerritoryRow } from "./territories.js";
import { canonicalJson, readDirectiveToken, sameHash } from "./tokens.js";

const isFinal = (state: DirectiveRow["state"]) => (finalDirectiveStates as readonly string[]).includes(state);
const renewedLease = sql`now() + make_interval(secs => ${LEASE_SECONDS})`;

/**
 * The directive a report is about: the token's subject must be the URL's id, the directive must be this
 * territory's, and the token the one its current lease handed out (a lapsed lease's token no longer works).
 */
export async function claimedDirective(
  services: Services,
  territory: TerritoryRow,
  directiveId: string,
  token: string | undefined,
): Promise<DirectiveRow> {
  const read = token ? readDirectiveToken(token) : undefined;
  if (!read) throw new UnauthorizedError("A directive token is required", "directive_token_required");
  if (read.subject !== directiveId) {
    throw new ForbiddenError("The directive token is for another directive", "directive_token_mismatch");
  }
  const [directive] = await services.db.select().from(directives).where(eq(directives.id, directiveId));
  if (!directive) throw new NotFoundError("Directive");
  if (directive.territoryId !== territory.id) {
    throw new ForbiddenError("The directive belongs to another territory", "directive_not_yours");
  }
  if (!directive.tokenHash || !sameHash(directive.tokenHash, read.secretHash)) {
    throw new UnauthorizedError("The directive token is no longer valid (its lease lapsed)", "directive_token_invalid");
  }
  return directive;
}

/** leased → running; a repeat (or a report after the end) is a duplicate. */
export async function directiveStarted(
  services: Services,
  directive: DirectiveRow,
  nexusVersion: string | undefined,
): Promise<DirectiveStartedResponse> {
  const [started] = await services.db
    .update(directives)
    .set({
      state: "running",
      startedAt: sql`now()`,
      heartbeatAt: sql`now()`,
      leaseExpiresAt: renewedLease,
      nexusVersion: nexusVersion ?? null,
    })
    .where(and(eq(directives.id, directive.id), eq(directives.state, "leased")))
    .returning({ state: directives.state });
  if (started) return { directive_id: directive.id, state: started.state, duplicate: false };
  const current = await reload(services, directive.id);
  if (current.state === "running" || isFinal(current.state)) {
    return { directive_id: directive.id, state: current.state, duplicate: true };
  }
  throw new ConflictError("invalid_state", `The directive is ${current.state}`);
}

/** Renews the lease and answers whether someone asked to cancel. */
export async function directiveHeartbeat(
  services: Services,
  directive: DirectiveRow,
): Promise<DirectiveHeartbeatResponse> {
  const [renewed] = await services.db
    .update(directives)
    .set({ heartbeatAt: sql`now()`, leaseExpiresAt: renewedLease })
    .where(and(eq(directives.id, directive.id), inArray(directives.state, ["leased", "running"])))
    .returning({ cancelRequestedAt: directives.cancelRequestedAt });
  if (!renewed) {
    const current = await reload(services, directive.id);
    throw new ConflictError("directive_ended", `The directive already ended (${current.state})`);
  }
  return { cancel_requested: renewed.cancelRequestedAt !== null, lease_seconds: LEASE_SECONDS };
}

/**
 * Stores one chunk of output, once per (stream, seq). stdout and stderr share the directive's output cap: the
 * chunk that crosses it is cut there and flagged, later ones are kept empty and flagged. Accepted after the end
 * too (the last chunks may arrive after `finished`).
 */
export async function appendLogChunk(
  services: Services,
  directive: DirectiveRow,
  chunk: LogChunkRequest,
): Promise<LogChunkResponse> {
  const bytes = Buffer.from(chunk.bytes, "base64");
  if (bytes.length > MAX_LOG_CHUNK_BYTES) {
    throw new ValidationError({ bytes: `is at most ${MAX_LOG_CHUNK_BYTES} bytes once decoded` });
  }
  const answer = (duplicate: boolean, accepted: number, truncated: boolean): LogChunkResponse => ({
    directive_id: directive.id,
    stream: chunk.stream,
    seq: chunk.seq,
    duplicate,
    accepted_bytes: accepted,
    truncated,
  });
  const stored = await services.db.transaction(async (tx) => {
    const [current] = await tx.select().from(directives).where(eq(directives.id, directive.id)).for("update");
    if (!current) throw new NotFoundError("Directive");
    if (current.state === "leased") throw new ConflictError("invalid_state", "Report `started` before output");
    const [existing] = await tx
      .select({
        length: sql<number>`octet_length(${directiveLogChunks.bytes})`,
        truncated: directiveLogChunks.truncated,
      })
      .from(directiveLogChunks)
      .where(
        and(
          eq(directiveLogChunks.directiveId, directive.id),
          eq(directiveLogChunks.stream, chunk.stream),
          eq(directiveLogChunks.seq, chunk.seq),
        ),
      );
    if (existing) return answer(true, existing.length, existing.truncated);
    const room = Math.max(0, current.outputCapBytes - current.outputBytes);
    const accepted = Math.min(bytes.length, room);
    const truncated = accepted < bytes.length;
    await tx.insert(directiveLogChunks).values({
      directiveId: directive.id,
      stream: chunk.stream,
      seq: chunk.seq,
      bytes: bytes.subarray(0, accepted),
      truncated,
    });
    const flag = chunk.stream === "stdout" ? directives.stdoutTruncated : directives.stderrTruncated;
    await tx
      .update(directives)
      .set({
        outputBytes: sql`${directives.outputBytes} + ${accepted}`,
        [chunk.stream === "stdout" ? "stdoutTruncated" : "stderrTruncated"]: sql`${flag} OR ${truncated}`,
      })
      .where(eq(directives.id, directive.id));
    return answer(false, accepted, truncated);
  });
  if (!stored.duplicate && stored.accepted_bytes > 0) {
    services.conduits.outputArrived({
      directive,
      stream: chunk.stream,
      seq: chunk.seq,
      bytes: bytes.subarray(0, stored.accepted_bytes),
    });
  }
  return stored;
}

/**
 * Ends the directive with the Nexus's result (a lost `started` is implied). Idempotent by the result's
 * canonical hash: the same report again is a duplicate, a different one a conflict.
 */
export async function directiveFinished(
  services: Services,
  directive: DirectiveRow,
  report: z.output<typeof directiveFinishedRequest>,
): Promise<DirectiveFinishedResponse> {
  const diff = report.diff_base64 === undefined ? undefined : Buffer.from(report.diff_base64, "base64");
  if (diff && diff.length > MAX_DIFF_BYTES) {
    throw new ValidationError({ diff_base64: `is at most ${MAX_DIFF_BYTES} bytes once decoded` });
  }
  const resultHash = createHash("sha256")
    .update(
      canonicalJson({
        status: report.status,
        exit_code: report.exit_code,
        stdout_truncated: report.stdout_truncated,
        stderr_truncated: report.stderr_truncated,
        diff_truncated: report.diff_truncated,
        result: report.result,
        diff: diff ? { sha256: createHash("sha256").update(diff).digest("hex"), bytes: diff.length } : null,
      }),
    )
    .digest("hex");
  const [ended] = await services.db
    .update(directives)
    .set({
      state: report.status,
      exitCode: report.exit_code,
      stdoutTruncated: sql`${directives.stdoutTruncated} OR ${report.stdout_truncated}`,
      stderrTruncated: sql`${directives.stderrTruncated} OR ${report.stderr_truncated}`,
      diffTruncated: report.diff_truncated,
      result: report.result,
      diff: diff ? diff.toString("utf8") : null,
      resultHash,
      startedAt: sql`coalesce(${directives.startedAt}, now())`,
      finishedAt: sql`now()`,
      leaseExpiresAt: null,
    })
    .where(and(eq(directives.id, directive.id), inArray(directives.state, ["leased", "running"])))
    .returning();
  if (ended) {
    services.conduits.claimable(ended.territoryId);
    await services.conduits.directiveFinished(ended);
    return { directive_id: ended.id, state: report.status, duplicate: false };
  }
  const current = await reload(services, directive.id);
  if (isFinal(current.state) && current.resultHash === resultHash) {
    return { directive_id: current.id, state: report.status, duplicate: true };
  }
  throw new ConflictError(
    "result_conflict",
    current.resultHash
      ? "The directive already finished with a different result"
      : `The directive already ended (${current.state})`,
    { state: current.state },
  );
}

async function reload(services: Services, directiveId: string): Promise<DirectiveRow> {
  const [current] = await services.db.select().from(directives).where(eq(directives.id, directiveId));
  if (!current) throw new NotFoundError("Directive");
  return current;
}
