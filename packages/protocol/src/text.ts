import { z } from "zod";

/**
 * Text the database can store: PostgreSQL text and jsonb cannot hold NUL, and a UTF-16 surrogate without its
 * pair has no UTF-8 encoding. Client input with either is refused (`storableText`); text from the outside world
 * (model output, tool results, fetched pages) is repaired instead (`toStorableText`), so a hostile page cannot
 * end a run.
 */
const NUL = String.fromCharCode(0);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export const UNSTORABLE_TEXT_MESSAGE = "must not contain NUL characters or unpaired surrogates";

export function isStorableText(value: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !value.includes(NUL) && !LONE_SURROGATE.test(value);
}

/** The base of every string a client sends: a string that `isStorableText`, else a 422 naming the field. */
export function storableText(params?: Parameters<typeof z.string>[0]) {
  return z.string(params).refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
}

/** NUL removed, lone surrogates replaced with U+FFFD (what a UTF-8 decoder does with a broken sequence). */
export function toStorableText(value: string): string {
  if (isStorableText(value)) return value;
  return value.split(NUL).join("").replace(LONE_SURROGATE, "\ufffd");
}

/** `toStorableText` on every string of a JSON value, keys included; the same object when nothing needed it. */
export function toStorableJson<T>(value: T): T {
  if (typeof value === "string") return toStorableText(value) as T;
  if (Array.isArray(value)) {
    const items = value.map(toStorableJson);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (value === null || typeof value !== "object") return value;
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const entry = [toStorableText(key), toStorableJson(item)] as const;
    if (entry[0] !== key || entry[1] !== item) changed = true;
    return entry;
  });
  return (changed ? Object.fromEntries(entries) : value) as T;
}
