import type { Config } from "./config.js";
import type { Database, Db } from "./db/index.js";
import type { Queue } from "./jobs/queue.js";
import type { Logger } from "./log.js";
import type { SecretBox } from "./secrets/index.js";

/** The long-lived pieces one server process holds; built once in server.ts and passed down explicitly. */
export interface Services {
  config: Config;
  log: Logger;
  database: Database;
  db: Db;
  queue: Queue;
  secrets: SecretBox;
  /** HMAC key for signed cookies, derived from the master key. */
  cookieSecret: string;
}
