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
  agentsDir: string;
  logLevel: Env["LOG_LEVEL"];
  /** A running run silent this long is logged as a warning (rate-limited to once per this interval). */
  runSilenceWarningMs: number;
  dev: boolean;
  env: Env;
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
    agentsDir: path.resolve(env.CYBROS_AGENTS_DIR ?? path.join(repoRoot, "agents")),
    logLevel: env.LOG_LEVEL,
    runSilenceWarningMs: env.CYBROS_RUN_SILENCE_WARNING_MS,
    dev: env.NODE_ENV === "development",
    env,
  };
}
