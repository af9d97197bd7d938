import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe } from "vitest";
import { type Config, loadConfig } from "../config.js";
import { type Database, openDatabase } from "../db/index.js";
import { createLogger, type Logger } from "../log.js";
import { createServer, type Server } from "../server.js";

/**
 * Boots a real server for a test: PGlite in memory by default, or a fresh database on the PostgreSQL server
 * named by CYBROS_TEST_DATABASE_URL (the database suite in CI). Each call gets its own empty database.
 */
export interface TestServer extends Server {
  config: Config;
  /** Everything the server logged, one JSON object per entry. */
  logs: () => Record<string, unknown>[];
  client(): TestClient;
  /** Listens on 127.0.0.1 at a random port; answers the base URL. */
  url(): Promise<string>;
}

export const usingPostgres = Boolean(process.env.CYBROS_TEST_DATABASE_URL);

/**
 * `describe` for tests of several server processes on one PostgreSQL database. Without CYBROS_TEST_DATABASE_URL
 * they are skipped, and the run prints why.
 */
export function describeOnPostgres(title: string, tests: () => void): void {
  if (!usingPostgres) console.log(`Skipping "${title}": set CYBROS_TEST_DATABASE_URL to run it on PostgreSQL.`);
  describe.runIf(usingPostgres)(title, tests);
}

async function createScratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cybros_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * PGlite's initdb costs seconds, so a test file keeps its in-memory databases and empties them between servers.
 * Emptying keeps the schema, so the next server boots in milliseconds.
 */
const idleDatabases: Database[] = [];

async function takePgliteDatabase(log: Logger): Promise<Database> {
  const database = idleDatabases.pop() ?? (await openDatabase({ dataDir: "memory://", log }));
  return database;
}

async function emptyDatabase(database: Database): Promise<void> {
  await database.exec(`
    DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
        WHERE schemaname = 'public'
      LOOP EXECUTE 'TRUNCATE ' || t || ' CASCADE'; END LOOP;
    END $$;`);
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** Reuse a database URL (two processes on one database) instead of creating one. */
  databaseUrl?: string;
  /** Open this PGlite folder instead of a throwaway in-memory database. */
  pgliteDir?: string;
  /**
   * Run the embedded local Nexus ("This computer", conduits/local-nexus.ts) so directives really run; the server
   * then listens at once. Off by default (CYBROS_LOCAL_NEXUS=off), as most tests drive the Conduits API themselves.
   */
  localNexus?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-test-"));
  const scratch =
    !options.databaseUrl && usingPostgres
      ? await createScratchDatabase(process.env.CYBROS_TEST_DATABASE_URL!)
      : undefined;
  const databaseUrl = options.databaseUrl ?? scratch?.url;
  const config = loadConfig({
    CYBROS_DATA_DIR: dataDir,
    PORT: "0",
    LOG_LEVEL: "debug",
    CYBROS_LOCAL_NEXUS: options.localNexus ? "on" : "off",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  if (!databaseUrl) config.pgliteDir = options.pgliteDir ?? "memory://";
  const lines: string[] = [];
  const log: Logger = createLogger("debug", { write: (line: string) => void lines.push(line) });
  const pooled = databaseUrl || options.pgliteDir ? undefined : await takePgliteDatabase(log);
  const server = await createServer(config, log, { database: pooled });
  let baseUrl: string | undefined;
  // The local Nexus starts once the server knows its own address.
  if (config.localNexus) baseUrl = await server.listen();
  return {
    ...server,
    config,
    logs: () => lines.map((line) => JSON.parse(line)),
    client: () => new TestClient(server, () => baseUrl),
    url: async () => {
      baseUrl ??= await server.listen();
      return baseUrl;
    },
    close: async () => {
      await server.close();
      if (pooled) {
        await emptyDatabase(pooled);
        idleDatabases.push(pooled);
      }
      await scratch?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Test responses read JSON loosely: assertions, not types, check the shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape
export type TestResponse = Omit<Response, "json"> & { json(): Promise<any> };

/** Talks to the app in-process (no socket) and keeps cookies like a browser. */
export class TestClient {
  private readonly cookies = new Map<string, string>();
  /** The Origin header sent on writes; by default this server's own origin (a same-origin browser request). */
  origin: string | undefined;

  constructor(
    private readonly server: Server,
    private readonly baseUrl: () => string | undefined,
  ) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  async request(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    const init: RequestInit = { method, headers: { ...headers } };
    const h = init.headers as Record<string, string>;
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const base = this.baseUrl();
    const origin = this.origin ?? (base ? new URL(base).origin : "http://localhost");
    if (method !== "GET" && method !== "HEAD" && !("origin" in h) && origin) h.origin = origin;
    if (body !== undefined) {
      h["content-type"] ??= "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = base ? await fetch(new URL(url, base), init) : await this.server.app.request(url, init);
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(";");
      const index = pair!.indexOf("=");
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (!value || /max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get = (url: string, headers?: Record<string, string>) => this.request("GET", url, undefined, headers);
  post = (url: string, body?: unknown, headers?: Record<string, string>) =>
    this.request("POST", url, body ?? {}, headers);
  put = (url: string, body?: unknown, headers?: Record<string, string>) =>
    this.request("PUT", url, body ?? {}, headers);
  patch = (url: string, body?: unknown, headers?: Record<string, string>) =>
    this.request("PATCH", url, body ?? {}, headers);
  delete = (url: string, headers?: Record<string, string>) => this.request("DELETE", url, undefined, headers);
}

export const OWNER = { email: "owner@example.com", password: "correct horse battery" };

/** A server that has been through setup, with a signed-in client. */
export async function startSignedIn(
  options: TestServerOptions = {},
): Promise<{ server: TestServer; client: TestClient }> {
  const server = await startTestServer(options);
  const client = server.client();
  const response = await client.post("/api/setup", { ...OWNER, passwordConfirmation: OWNER.password });
  if (response.status !== 201) throw new Error(`setup failed: ${response.status} ${await response.text()}`);
  return { server, client };
}
