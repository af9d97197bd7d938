import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { defaultAccount } from "./accounts/index.js";
import { Conduits } from "./conduits/index.js";
import { type LocalNexus, prepareLocalNexus } from "./conduits/local-nexus.js";
import { type Config, createDataFolder } from "./config.js";
import { type Database, openDatabase } from "./db/index.js";
import type { StartedPglite } from "./db/pglite-open.js";
import { createApp } from "./http/app.js";
import type { AppEnv } from "./http/session.js";
import { type PeriodicTasks, startPeriodicTasks } from "./jobs/periodic.js";
import { reapStaleRunsJob } from "./jobs/reap-stale-runs.js";
import type { Logger } from "./log.js";
import { ensureVectorFeatures } from "./memory/vector.js";
import { MockLlm } from "./mock-llm/index.js";
import { reachableSelfUrl } from "./providers/base-url.js";
import { Realtime } from "./realtime/index.js";
import { StreamWriter } from "./realtime/stream-writer.js";
import { recoverRuns, resumeInterruptedRuns } from "./runs/reaper.js";
import { RunScheduler } from "./runs/scheduler.js";
import { followDirectives } from "./runs/steps/await-directive.js";
import { loadMasterKey, SecretBox } from "./secrets/index.js";
import { seed } from "./seeds.js";
import type { Services } from "./services.js";

/** How long a kept-alive connection may sit idle between requests before the server closes it. */
const IDLE_CONNECTION_MS = 65_000;

export interface Server {
  services: Services;
  app: Hono<AppEnv>;
  /** The embedded Nexus of the default account's local territory, when CYBROS_LOCAL_NEXUS is on. */
  localNexus?: LocalNexus;
  /** Starts accepting HTTP connections; resolves with the bound URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots one Cybros process: database (migrated), secrets, seeds, run recovery, periodic jobs, HTTP app. Nothing listens until
 * everything below it is ready, so /up answering means the instance is usable.
 */
export async function createServer(
  config: Config,
  log: Logger,
  options: { database?: Database; pglite?: Promise<StartedPglite> } = {},
): Promise<Server> {
  createDataFolder(config.dataDir);
  // A database handed in (tests reuse one across servers) stays open when this server closes.
  const ownsDatabase = !options.database;
  const database: Database =
    options.database ??
    (await openDatabase({
      url: config.databaseUrl,
      dataDir: config.pgliteDir,
      sharedBuffers: config.pgliteSharedBuffers,
      pglite: options.pglite,
      log,
    }));
  let jobs: PeriodicTasks | undefined;
  try {
    // Memory's pgvector half lives outside the migrations: the extension may be missing (DESIGN.md §3).
    await ensureVectorFeatures(database, log);
    const masterKey = loadMasterKey(config.dataDir, config.secretKey);
    const realtime = new Realtime(database, log);
    const services: Services = {
      config,
      log,
      database,
      db: database.db,
      secrets: new SecretBox(masterKey),
      cookieSecret: SecretBox.derive(masterKey, "cookies").toString("base64url"),
      mockLlm: config.mockLlm ? new MockLlm() : undefined,
      self: {},
      realtime,
      streams: new StreamWriter(database.db, realtime, log),
      runs: new RunScheduler(database, log),
      conduits: new Conduits(database, log),
    };
    await seed(services);
    await realtime.start();
    await services.conduits.start();
    followDirectives(services);
    await services.runs.start(services);
    await recoverRuns(services);
    jobs = startPeriodicTasks(services, [reapStaleRunsJob]);
    const localNexus = config.localNexus
      ? await prepareLocalNexus(services, (await defaultAccount(database.db)).id)
      : undefined;
    const app = createApp(services);
    let httpServer: ReturnType<typeof serve> | undefined;

    return {
      services,
      app,
      localNexus,
      listen: () =>
        new Promise((resolve, reject) => {
          httpServer = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
            services.self.url = reachableSelfUrl(info.address, info.port);
            localNexus?.start(services.self.url);
            resumeInterruptedRuns(services).catch((error) => log.error({ err: error }, "resuming runs failed"));
            resolve(`http://${info.address.includes(":") ? `[${info.address}]` : info.address}:${info.port}`);
          });
          httpServer.once("error", reject);
          // Node closes an idle kept-alive connection after 5 s, the moment a client may be reusing it: that
          // request dies with ECONNRESET. Idle clients (Node's agent, browsers) and proxies give up sooner than this.
          const server = httpServer as unknown as { keepAliveTimeout: number; headersTimeout: number };
          server.keepAliveTimeout = IDLE_CONNECTION_MS;
          server.headersTimeout = IDLE_CONNECTION_MS + 1_000;
        }),
      close: async () => {
        // The local Nexus reports what it cancels while the HTTP server still answers.
        await localNexus?.stop();
        // Held Nexus polls answer now rather than being cut off.
        await services.conduits.stop();
        if (httpServer) {
          const closing = new Promise<void>((resolve) => httpServer!.close(() => resolve()));
          (httpServer as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          await closing;
        }
        await jobs?.stop();
        await services.runs.stop();
        await services.streams.stop();
        await services.realtime.stop();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    await jobs?.stop();
    if (ownsDatabase) await database.close();
    throw error;
  }
}
