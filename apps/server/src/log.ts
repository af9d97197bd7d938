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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: "[redacted]" } }, destination);
}
