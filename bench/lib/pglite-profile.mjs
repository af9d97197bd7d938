// Diagnosis only: preload into a server (BENCH_SERVER_NODE_ARGS="--import ./bench/lib/pglite-profile.mjs"; the
// PGlite worker thread inherits the preload) to
// time every PGlite protocol exchange by SQL text; writes $PGLITE_PROFILE (JSON, slowest total first) at exit.
import fs from "node:fs";
import { PGlite } from "@electric-sql/pglite";

const stats = new Map();
let lastSql = "(unknown)";
const decoder = new TextDecoder();

/** The SQL text of a Query ('Q') or Parse ('P') message at the start of a protocol buffer, if any. */
function sqlOf(bytes) {
  const type = bytes[0];
  if (type !== 0x51 && type !== 0x50) return undefined;
  let start = 5;
  if (type === 0x50) while (bytes[start] !== 0) start++; // skip the statement name
  if (type === 0x50) start++;
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return decoder
    .decode(bytes.subarray(start, end))
    .replace(/\s+/g, " ")
    .replace(/\$\d+(, \$\d+)+/g, "$…")
    .slice(0, 160);
}

let proto = PGlite.prototype;
while (proto && !Object.hasOwn(proto, "execProtocolRawSync")) proto = Object.getPrototypeOf(proto);
const original = proto.execProtocolRawSync;
proto.execProtocolRawSync = function (bytes) {
  const sql = sqlOf(bytes) ?? lastSql;
  lastSql = sql;
  const started = performance.now();
  try {
    return original.call(this, bytes);
  } finally {
    const entry = stats.get(sql) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += performance.now() - started;
    stats.set(sql, entry);
  }
};

let windowStarted = performance.now();
function dump(suffix) {
  // The server runs PGlite in a worker thread, which loads this file too: only that thread has rows to write.
  if (stats.size === 0) return;
  const rows = [...stats]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, s]) => ({ ms: Math.round(s.ms), calls: s.calls, sql }));
  const file = `${process.env.PGLITE_PROFILE ?? `/tmp/pglite-profile-${process.pid}`}${suffix}.json`;
  fs.writeFileSync(file, JSON.stringify({ windowMs: Math.round(performance.now() - windowStarted), rows }, null, 1));
}
// SIGUSR2 writes the window so far and starts a new one (steady-state measurements skip start-up).
let windows = 0;
process.on("SIGUSR2", () => {
  dump(`-${++windows}`);
  stats.clear();
  windowStarted = performance.now();
});
process.on("exit", () => dump(""));
