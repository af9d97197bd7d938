import { createDataFolder, loadConfig } from "./config.js";
import { DataFolderLockedError } from "./db/pglite-lock.js";
import { startPglite } from "./db/pglite-open.js";
import { createLogger } from "./log.js";

const startedAt = performance.now();
const config = loadConfig();
const log = createLogger(config.logLevel);
createDataFolder(config.dataDir);

// PGlite starts on its thread now, while this one loads the rest of the server (a second of module loading;
// the build splits server.js into its own chunk so its packages load only here). Awaited in createServer.
const pglite = config.databaseUrl ? undefined : startPglite(config.pgliteDir, log, config.pgliteSharedBuffers);
pglite?.catch(() => {}); // reported where createServer awaits it

try {
  const { createServer } = await import("./server.js");
  const server = await createServer(config, log, { pglite });
  const url = await server.listen();
  log.info({ url, ms: Math.round(performance.now() - startedAt) }, `Cybros is serving at ${url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  if (error instanceof DataFolderLockedError) {
    log.fatal(error.message);
  } else {
    log.fatal({ err: error }, "Cybros failed to start");
  }
  process.exit(1);
}
