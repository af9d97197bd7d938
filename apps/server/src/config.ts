import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_SHARED_BUFFERS } from "./db/pglite-thread.js";

/** Everything the server reads from its environment, parsed once at boot. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  CYBROS_DATA_DIR: z.string().min(1).default("data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  CYBROS_SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  CYBROS_MOCK_LLM: z.enum(["on", "off"]).default("on"),
  CYBROS_LOCAL_NEXUS: z.enum(["on", "off"]).default("on"),
  CYBROS_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  CYBROS_ALLOWED_HOSTS: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]\-, ]*$/, "must be host names separated by commas")
    .default(""),
  CYBROS_SESSION_IDLE_DAYS: z.coerce.number().positive().default(14),
  CYBROS_SESSION_MAX_DAYS: z.coerce.number().positive().default(90),
  CYBROS_AGENTS_DIR: z.string().optional(),
  CYBROS_PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, "must be a size such as 128MB")
    .default(DEFAULT_SHARED_BUFFERS),
  CYBROS_RUN_SILENCE_WARNING_MS: z.coerce.number().int().min(1000).default(30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.string().default("production"),
  OPENROUTER_API_KEY: z.string().optional(),
  LLM_PROVIDER_NAME: z.string().optional(),
  LLM_PROVIDER_BASE_URL: z.string().optional(),
  LLM_PROVIDER_API_KEY: z.string().optional(),
  LLM_PROVIDER_MODELS: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PGlite's folder (inside dataDir), or "memory://" for a throwaway database in tests. */
  pgliteDir: string;
  /** PGlite's buffer pool (PostgreSQL's shared_buffers): memory held for speed, e.g. vector search over memories. */
  pgliteSharedBuffers: string;
  databaseUrl?: string;
  secretKey?: string;
  mockLlm: boolean;
  /** Run a Nexus inside this process for the account's "This computer" territory (conduits/local-nexus.ts). */
  localNexus: boolean;
  /** Host names (lower-case, no port) requests may address; anything else is refused (DNS rebinding). */
  allowedHosts: string[];
  /** A session unused this long, or this old, is refused and deleted. */
  sessionIdleMs: number;
  sessionMaxAgeMs: number;
  agentsDir: string;
  logLevel: Env["LOG_LEVEL"];
  /** A running run silent this long is logged as a warning (rate-limited to once per this interval). */
  runSilenceWarningMs: number;
  dev: boolean;
  env: Env;
}

/** The largest request body any route reads (API and mock LLM alike): a long conversation's prompt fits. */
export const MAX_REQUEST_BODY_BYTES = 8 * 1024 * 1024;

const DAY_MS = 24 * 60 * 60_000;

/** Loopback names, the public URL's host, the bound address when it is a specific one, and the allowlist. */
function allowedHostsFrom(env: Env): string[] {
  const hosts = ["127.0.0.1", "localhost", "[::1]", ...env.CYBROS_ALLOWED_HOSTS.split(",")];
  if (env.CYBROS_PUBLIC_URL) hosts.push(new URL(env.CYBROS_PUBLIC_URL).hostname);
  if (!["0.0.0.0", "::", "[::]"].includes(env.HOST)) hosts.push(env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST);
  return [...new Set(hosts.map((host) => host.trim().toLowerCase()).filter(Boolean))];
}

/** The data folder holds the master key and the database: only this user may enter it, even if it existed. */
export function createDataFolder(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}

/** The repository root, found from this file so the server can start from any working directory. */
export const repoRoot = path.resolve(import.meta.dirname, "../../..");

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  return {
    port: env.PORT,
    host: env.HOST,
    dataDir: path.resolve(env.CYBROS_DATA_DIR),
    pgliteDir: path.join(path.resolve(env.CYBROS_DATA_DIR), "db"),
    pgliteSharedBuffers: env.CYBROS_PGLITE_SHARED_BUFFERS,
    databaseUrl: env.DATABASE_URL,
    secretKey: env.CYBROS_SECRET_KEY,
    mockLlm: env.CYBROS_MOCK_LLM === "on",
    localNexus: env.CYBROS_LOCAL_NEXUS === "on",
    allowedHosts: allowedHostsFrom(env),
    sessionIdleMs: env.CYBROS_SESSION_IDLE_DAYS * DAY_MS,
    sessionMaxAgeMs: env.CYBROS_SESSION_MAX_DAYS * DAY_MS,
    agentsDir: path.resolve(env.CYBROS_AGENTS_DIR ?? path.join(repoRoot, "agents")),
    logLevel: env.LOG_LEVEL,
    runSilenceWarningMs: env.CYBROS_RUN_SILENCE_WARNING_MS,
    dev: env.NODE_ENV === "development",
    env,
  };
}
