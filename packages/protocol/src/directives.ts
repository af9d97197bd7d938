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
