// Diagnosis only: preload into a server (BENCH_SERVER_NODE_ARGS="--import ./bench/lib/pglite-profile.mjs"; the
// PGlite worker thread inherits the preload) to time every PGlite protocol exchange by SQL text (a prepared
// statement's executions by the text it was prepared from), in wall-clock and (on Linux) thread CPU time; writes
// $PGLITE_PROFILE (JSON, slowest total first) every second and at exit.
import fs from "node:fs";
import { PGlite } from "@electric-sql/pglite";

const stats = new Map();
let lastSql = "(unknown)";
const decoder = new TextDecoder();

/** Prepared statement name → its SQL text, learnt from Parse messages (the server prepares each text once). */
const preparedText = new Map();

function cString(bytes, start) {
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return { text: decoder.decode(bytes.subarray(start, end)), next: end + 1 };
}

function normalize(sql) {
  return sql
    .replace(/\s+/g, " ")
    .replace(/\$\d+(, \$\d+)+/g, "$…")
    .slice(0, 160);
}

/**
 * The SQL text of the exchange at the start of a protocol buffer: a Query ('Q'), a Parse ('P'), or a Bind ('B')
 * of a statement prepared earlier, by its name.
 */
function sqlOf(bytes) {
  const type = bytes[0];
  if (type === 0x51) return normalize(cString(bytes, 5).text);
  if (type === 0x50) {
    const name = cString(bytes, 5);
    const sql = normalize(cString(bytes, name.next).text);
    preparedText.set(name.text, sql); // "" is the unnamed statement, replaced by each unnamed Parse
    return sql;
  }
  if (type === 0x42) {
    const portal = cString(bytes, 5);
    const statement = cString(bytes, portal.next).text;
    return preparedText.get(statement) ?? `(prepared ${statement})`;
  }
  if (type === 0x43) return "(close)";
  return undefined;
}

/** This thread's CPU time in ms (Linux): unlike the wall clock, it leaves out time the thread was not running. */
const cpuFile = "/proc/thread-self/schedstat";
const hasCpu = fs.existsSync(cpuFile);
const cpuMs = () => (hasCpu ? Number(fs.readFileSync(cpuFile, "utf8").split(" ")[0]) / 1e6 : 0);

let proto = PGlite.prototype;
while (proto && !Object.hasOwn(proto, "execProtocolRawSync")) proto = Object.getPrototypeOf(proto);
const original = proto.execProtocolRawSync;
proto.execProtocolRawSync = function (bytes) {
  const sql = sqlOf(bytes) ?? lastSql;
  lastSql = sql;
  const started = performance.now();
  const cpuStarted = cpuMs();
  try {
    return original.call(this, bytes);
  } finally {
    const entry = stats.get(sql) ?? { calls: 0, ms: 0, cpuMs: 0 };
    entry.calls++;
    entry.ms += performance.now() - started;
    entry.cpuMs += cpuMs() - cpuStarted;
    stats.set(sql, entry);
  }
};

const startedAt = performance.now();
function dump() {
  // The server runs PGlite in a worker thread, which loads this file too: only that thread has rows to write.
  if (stats.size === 0) return;
  const rows = [...stats]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, s]) => ({ ms: Math.round(s.ms), cpuMs: Math.round(s.cpuMs), calls: s.calls, sql }));
  const file = `${process.env.PGLITE_PROFILE ?? `/tmp/pglite-profile-${process.pid}`}.json`;
  fs.writeFileSync(file, JSON.stringify({ windowMs: Math.round(performance.now() - startedAt), rows }, null, 1));
}
// The worker thread is terminated, which it may not see as "exit" (nor can it hear signals): keep the file
// current meanwhile.
process.on("exit", dump);
setInterval(dump, 1000).unref();
