import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bearer secrets for territories and enrollment: random, shown once, stored only as their SHA-256. */
export function newSecret(prefix: string): { token: string; hash: string } {
  const token = `${prefix}_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashSecret(token) };
}

export function hashSecret(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * A directive token names its directive (`<directive id>.<secret>`): the subject is checked against the URL, the
 * secret against the hash the lease stored. Only the secret's hash is kept, so a database read cannot act.
 */
export function newDirectiveToken(directiveId: string, secret: { token: string; hash: string }): string {
  return `${directiveId}.${secret.token}`;
}

export function readDirectiveToken(token: string): { subject: string; secretHash: string } | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  return { subject: token.slice(0, dot), secretHash: hashSecret(token.slice(dot + 1)) };
}

export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Canonical JSON (keys sorted at every depth), so equal results hash equal whatever order the client sent. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
