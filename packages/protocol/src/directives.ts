import { z } from "zod";

/** A directive's life on the Conduits control plane: from the queue, maybe through a person's approval, to an end. */
export const directiveStates = [
  "queued",
  "awaiting_approval",
  "leased",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
] as const;
export const directiveState = z.enum(directiveStates);
export type DirectiveState = z.infer<typeof directiveState>;

export const outputStreams = ["stdout", "stderr"] as const;
export const outputStream = z.enum(outputStreams);
export type OutputStream = z.infer<typeof outputStream>;

/** `GET /api/directives/:id/output`: what a directive printed so far (a card opened mid-run starts from it). */
export const directiveOutput = z.object({
  id: z.string(),
  state: directiveState,
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  /** The highest seq included per stream; live `directive_output` events at or below it are already in. */
  stdoutSeq: z.number().int(),
  stderrSeq: z.number().int(),
  truncated: z.boolean(),
});
export type DirectiveOutput = z.infer<typeof directiveOutput>;
