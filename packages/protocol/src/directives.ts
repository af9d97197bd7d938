import { z } from "zod";

/** A directive's life on the Conduits control plane: from the queue, maybe through a person's approval, to an end. */
export const directiveState = z.enum([
  "queued",
  "awaiting_approval",
  "leased",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
]);
export type DirectiveState = z.infer<typeof directiveState>;

export const outputStream = z.enum(["stdout", "stderr"]);
export type OutputStream = z.infer<typeof outputStream>;
