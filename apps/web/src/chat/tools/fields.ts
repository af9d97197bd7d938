/**
 * Reading a tool's arguments and result, which arrive as JSON or JSON text and whose fields a card only hopes for:
 * each reader answers undefined rather than guess.
 */

export type Fields = Record<string, unknown>;

/** An object, or JSON text of one; null for anything else (plain text, arrays, nothing). */
export function fieldsOf(value: unknown): Fields | null {
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Fields;
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Fields) : null;
  } catch {
    return null;
  }
}

/** What a finished call tells its card: the tool's structured details over its result's own fields. */
export function resultFields(part: { result?: unknown; details?: Fields }): Fields | null {
  const result = fieldsOf(part.result);
  return part.details ? { ...result, ...part.details } : result;
}

/** The first of `keys` holding a string. */
export function text(fields: Fields | null, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = fields?.[key];
    if (typeof value === "string") return value;
  }
  return undefined;
}

/** The first of `keys` holding a finite number. */
export function number(fields: Fields | null, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = fields?.[key];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return undefined;
}

export function flag(fields: Fields | null, ...keys: string[]): boolean {
  return keys.some((key) => fields?.[key] === true);
}
