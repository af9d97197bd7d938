import {
  type DirectiveOutput,
  type FinalDirectiveState,
  finalDirectiveStates,
  type OutputStream,
} from "@cybros/protocol";
import { asc, eq } from "drizzle-orm";
import { artifactsOf } from "../artifacts/index.js";
import { directiveLogChunks, territories } from "../db/schema.js";
import type { Services } from "../services.js";
import type { DirectiveOutcome } from "../tools/define.js";
import type { DirectiveRow } from "./index.js";

/** Per stream, what a tool's result keeps of a directive's output: its start and its end, where the errors are. */
const KEPT_HEAD_CHARS = 24_000;
const KEPT_TAIL_CHARS = 8_000;

/** What a directive printed, per stream, decoded whole (a character split across chunks stays whole). */
export async function directiveText(
  services: Services,
  directiveId: string,
): Promise<Record<OutputStream, { text: string; seq: number }>> {
  const chunks = await services.db
    .select({ stream: directiveLogChunks.stream, seq: directiveLogChunks.seq, bytes: directiveLogChunks.bytes })
    .from(directiveLogChunks)
    .where(eq(directiveLogChunks.directiveId, directiveId))
    .orderBy(asc(directiveLogChunks.stream), asc(directiveLogChunks.seq));
  const out = { stdout: { parts: [] as Buffer[], seq: -1 }, stderr: { parts: [] as Buffer[], seq: -1 } };
  for (const chunk of chunks) {
    out[chunk.stream].parts.push(Buffer.from(chunk.bytes));
    out[chunk.stream].seq = chunk.seq;
  }
  return {
    stdout: { text: Buffer.concat(out.stdout.parts).toString("utf8"), seq: out.stdout.seq },
    stderr: { text: Buffer.concat(out.stderr.parts).toString("utf8"), seq: out.stderr.seq },
  };
}

/** How a directive ended, for the tool that waits on it: output kept to its start and end, flags set when cut. */
export async function directiveOutcome(services: Services, directive: DirectiveRow): Promise<DirectiveOutcome> {
  if (!(finalDirectiveStates as readonly string[]).includes(directive.state)) {
    throw new Error(`directive ${directive.id} has not ended (${directive.state})`);
  }
  const text = await directiveText(services, directive.id);
  const stdout = keepEnds(text.stdout.text);
  const stderr = keepEnds(text.stderr.text);
  const started = directive.startedAt ?? directive.queuedAt;
  const [territory] = await services.db
    .select({ id: territories.id, name: territories.name })
    .from(territories)
    .where(eq(territories.id, directive.territoryId));
  return {
    state: directive.state as FinalDirectiveState,
    exitCode: directive.exitCode,
    stdout: stdout.text,
    stderr: stderr.text,
    stdoutTruncated: directive.stdoutTruncated || stdout.cut,
    stderrTruncated: directive.stderrTruncated || stderr.cut,
    result: directive.result ?? null,
    diff: directive.diff,
    endReason: directive.endReason,
    durationMs: directive.finishedAt ? Math.max(0, directive.finishedAt.getTime() - started.getTime()) : 0,
    territory: territory ?? { id: directive.territoryId, name: "a removed machine" },
    artifacts: await artifactsOf(services, directive.id),
  };
}

/** What a directive printed so far, for a tool card opened mid-run. */
export async function directiveOutputSoFar(services: Services, directive: DirectiveRow): Promise<DirectiveOutput> {
  const text = await directiveText(services, directive.id);
  return {
    id: directive.id,
    state: directive.state,
    exitCode: directive.exitCode,
    stdout: text.stdout.text,
    stderr: text.stderr.text,
    stdoutSeq: text.stdout.seq,
    stderrSeq: text.stderr.seq,
    truncated: directive.stdoutTruncated || directive.stderrTruncated,
  };
}

function keepEnds(text: string): { text: string; cut: boolean } {
  if (text.length <= KEPT_HEAD_CHARS + KEPT_TAIL_CHARS) return { text, cut: false };
  const dropped = text.length - KEPT_HEAD_CHARS - KEPT_TAIL_CHARS;
  return {
    text: `${text.slice(0, KEPT_HEAD_CHARS)}\n…[${dropped} characters left out]…\n${text.slice(-KEPT_TAIL_CHARS)}`,
    cut: true,
  };
}
