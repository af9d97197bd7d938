/**
 * Whether an error (or one it wraps: Drizzle wraps driver errors in `cause`) is a unique-index violation,
 * optionally of one named index. Works for node-postgres and PGlite, which both carry SQLSTATE and constraint.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const { code, constraint: name } = e as { code?: unknown; constraint?: unknown };
    if (code === "23505") return constraint === undefined || name === constraint;
  }
  return false;
}
