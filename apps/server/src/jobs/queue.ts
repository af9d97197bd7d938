import PgBoss from "pg-boss";
import type { Database } from "../db/index.js";
import type { Logger } from "../log.js";

export type Queue = PgBoss;

/**
 * pg-boss on the same database. On PGlite it talks through our handle (parameterless SQL goes to exec(),
 * which accepts several statements); on a server it shares nothing and opens its own small pool.
 */
export async function startQueue(database: Database, log: Logger, url?: string): Promise<Queue> {
  const boss =
    database.kind === "pglite"
      ? new PgBoss({
          db: {
            executeSql: async (text: string, values?: unknown[]) => {
              if (values && values.length > 0) return database.query(text, values);
              return database.exec(text);
            },
          },
          schema: "pgboss",
          supervise: true,
          schedule: true,
        })
      : new PgBoss({ connectionString: url, schema: "pgboss", max: 4, application_name: "cybros-jobs" });
  boss.on("error", (error) => log.error({ err: error }, "job queue error"));
  await boss.start();
  log.info("job queue started");
  return boss;
}

/** Stops taking new jobs and waits for running handlers, so no job is left half-done at shutdown. */
export async function stopQueue(boss: Queue, timeoutMs = 10_000): Promise<void> {
  await boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: true });
}
