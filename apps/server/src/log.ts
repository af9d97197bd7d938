import { DrizzleQueryError } from "drizzle-orm";
import pino, { type DestinationStream, type Logger } from "pino";

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const redactPaths = [
  "password",
  "*.password",
  "apiKey",
  "*.apiKey",
  "api_key",
  "*.api_key",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "cookie",
  "*.cookie",
  "token",
  "*.token",
  "secret",
  "*.secret",
];

export type { Logger };

/** Fields of a database error that carry row values: a key in a unique violation's detail, say. */
const VALUE_FIELDS = ["params", "detail"];
/** PostgreSQL quotes the offending value in these messages: `invalid input syntax for type integer: "…"`. */
const QUOTED_VALUE = /(invalid input (?:syntax|value) for [^:\n]+): "(?:[^"]|"")*"/g;

/**
 * Logged errors keep their statement but not its values (conversation text, emails, key material): a failed
 * query says which statement failed, and its driver error why.
 */
function errorWithoutValues(error: unknown) {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (typeof serialized !== "object" || serialized === null) return serialized;
  if (error instanceof DrizzleQueryError) {
    const statementOnly = `Failed query: ${error.query}`;
    serialized.message = String(serialized.message).replace(error.message, statementOnly);
    serialized.stack = String(serialized.stack).replace(error.message, statementOnly);
  }
  for (const text of ["message", "stack"] as const) {
    if (typeof serialized[text] === "string") serialized[text] = serialized[text].replace(QUOTED_VALUE, "$1: [value]");
  }
  for (const field of VALUE_FIELDS) delete serialized[field];
  return serialized;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: "[redacted]" }, serializers: { err: errorWithoutValues } },
    destination,
  );
}
