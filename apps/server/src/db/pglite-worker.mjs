// @ts-check
// The worker thread that owns the PGlite instance (db/pglite-thread.ts is the other side). PGlite executes SQL
// synchronously in WebAssembly; here that time is spent on the machine's other core instead of the event loop
// that streams replies. Plain JavaScript so that it runs as is under tsx, Vitest and the esbuild bundle.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
/** @type {{ dataDir: string | undefined, sharedBuffers: string }} */
const { dataDir, sharedBuffers } = workerData;

/** An error as plain data: a structured clone of an Error drops `code`, `constraint` and the other fields. */
function errorData(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const data = { name: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) data[key] = value;
  }
  return data;
}

/** Raw text out for these type oids: the caller applies its own parser functions, which cannot cross threads. */
function textParsers(oids) {
  if (!oids || oids.length === 0) return undefined;
  return Object.fromEntries(oids.map((oid) => [oid, (value) => value]));
}

let pg;
try {
  pg = await PGlite.create(dataDir, {
    extensions: { vector },
    // The buffer pool lives in this process's memory (CYBROS_PGLITE_SHARED_BUFFERS, decisions/0009).
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffers}`],
  });
  await pg.exec("CREATE EXTENSION IF NOT EXISTS vector;");
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: errorData(error) });
}

const unlisteners = new Map();

async function perform(message) {
  switch (message.op) {
    case "query": {
      const options = { rowMode: message.rowMode, parsers: textParsers(message.textTypes) };
      const { rows, fields, affectedRows } = await pg.query(message.sql, message.params, options);
      return { rows, fields, affectedRows };
    }
    case "exec": {
      const results = await pg.exec(message.sql);
      return { rows: results.at(-1)?.rows ?? [] };
    }
    case "listen": {
      const unlisten = await pg.listen(message.channel, (payload) =>
        port.postMessage({ notification: { channel: message.channel, payload } }),
      );
      unlisteners.set(message.channel, unlisten);
      return null;
    }
    case "unlisten": {
      await unlisteners.get(message.channel)?.();
      unlisteners.delete(message.channel);
      return null;
    }
    case "close":
      await pg.close();
      return null;
    default:
      throw new Error(`unknown PGlite worker operation ${message.op}`);
  }
}

// One message at a time, in arrival order: a transaction's statements and BEGIN/COMMIT must not interleave.
let chain = Promise.resolve();
port.on("message", (message) => {
  chain = chain.then(async () => {
    try {
      port.postMessage({ id: message.id, ok: true, result: await perform(message) });
    } catch (error) {
      port.postMessage({ id: message.id, ok: false, error: errorData(error) });
    }
    if (message.op === "close") port.close();
  });
});
