import { loadConfig } from "./config.js";
import { DataFolderLockedError } from "./db/pglite-lock.js";
import { createLogger } from "./log.js";
import { createServer } from "./server.js";

const startedAt = performance.now();
const config = loadConfig();
const log = createLogger(config.logLevel);

try {
  const server = await createServer(config, log);
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
