import { z } from "zod";
import { storableText } from "./text.js";

export const email = storableText()
  .trim()
  .min(1, "is required")
  .max(320, "is too long")
  .pipe(z.email("is not a valid email address"));

export const newPassword = storableText().min(8, "must be at least 8 characters").max(1024, "is too long");

export const setupInput = z
  .object({ email, password: newPassword, passwordConfirmation: storableText() })
  .refine((v) => v.password === v.passwordConfirmation, {
    path: ["passwordConfirmation"],
    message: "does not match the password",
  });
export type SetupInput = z.infer<typeof setupInput>;

export const loginInput = z.object({
  email: storableText().trim().min(1, "is required").max(320, "is too long"),
  password: storableText().min(1, "is required").max(1024, "is too long"),
});
export type LoginInput = z.infer<typeof loginInput>;

export const passwordChangeInput = z
  .object({
    currentPassword: storableText().min(1, "is required"),
    newPassword,
    newPasswordConfirmation: storableText(),
  })
  .refine((v) => v.newPassword === v.newPasswordConfirmation, {
    path: ["newPasswordConfirmation"],
    message: "does not match the new password",
  });
export type PasswordChangeInput = z.infer<typeof passwordChangeInput>;

export const currentUser = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(["owner", "admin", "member"]),
  displayName: z.string().nullable(),
});
export type CurrentUser = z.infer<typeof currentUser>;

/** GET /api/session: what the web app needs before it can route. */
export const sessionState = z.object({
  setupRequired: z.boolean(),
  user: currentUser.nullable(),
  csrfToken: z.string().nullable(),
});
export type SessionState = z.infer<typeof sessionState>;

export const sessionSummary = z.object({
  id: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  current: z.boolean(),
});
export type SessionSummary = z.infer<typeof sessionSummary>;
