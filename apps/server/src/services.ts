import type { Conduits } from "./conduits/index.js";
import type { Config } from "./config.js";
import type { Database, Db } from "./db/index.js";
import type { Logger } from "./log.js";
import type { MockLlm } from "./mock-llm/index.js";
import type { Realtime } from "./realtime/index.js";
import type { StreamWriter } from "./realtime/stream-writer.js";
import type { RunScheduler } from "./runs/scheduler.js";
import type { SecretBox } from "./secrets/index.js";

/** The long-lived pieces one server process holds; built once in server.ts and passed down explicitly. */
export interface Services {
  config: Config;
  log: Logger;
  database: Database;
  db: Db;
  secrets: SecretBox;
  /** HMAC key for signed cookies, derived from the master key. */
  cookieSecret: string;
  /** The conversation event log and its fan-out to subscribers. */
  realtime: Realtime;
  /** Streaming replies: live deltas and their batched persistence. */
  streams: StreamWriter;
  /** Starts, cancels and tracks conversation runs. */
  runs: RunScheduler;
  /** Conduits: wakes held Nexus polls, tells waiters when a directive ends. */
  conduits: Conduits;
  /** The mock LLM's state (scenarios, request log) when CYBROS_MOCK_LLM is on. */
  mockLlm?: MockLlm;
  /** This process's own address once it listens (loopback when bound to all interfaces); see providers/base-url.ts. */
  self: { url?: string };
}
