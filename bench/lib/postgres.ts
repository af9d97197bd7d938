import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../apps/server/src/testing/ports.js";

export interface PostgresServer {
  /** Admin URL (the postgres database); scenarios create their own databases from it. */
  adminUrl: string;
  newDatabase(): Promise<{ url: string; drop: () => Promise<void> }>;
  stop(): void;
}

/** Uses the server named by BENCH_DATABASE_URL; scratch databases are created and dropped on it. */
export function externalPostgres(adminUrl: string): PostgresServer {
  return { adminUrl, newDatabase: () => scratchDatabase(adminUrl), stop: () => {} };
}

async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cybros_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
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

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin/initdb")))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  if (!versions.length)
    throw new Error("--postgres: no PostgreSQL binaries under /usr/lib/postgresql (or set BENCH_DATABASE_URL)");
  return path.join(root, versions.at(-1)!, "bin");
}

/**
 * A temporary cluster on 127.0.0.1 at a free port (as .ci/run starts one), default durability settings. Stopped
 * by `stop()`, at exit, and by a watcher process if this one is killed.
 */
export async function startTemporaryPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-pg-"));
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  if (asPostgres.length) fs.chownSync(dir, Number(idOf("postgres")), Number(idOf("postgres", "-g")));
  const run = (args: string[]) => {
    const [command, ...rest] = [...asPostgres, ...args];
    const result = spawnSync(command!, rest, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr || result.stdout}`);
  };
  run([path.join(bin, "initdb"), "-D", path.join(dir, "data"), "-U", "postgres", "-A", "trust"]);
  const stopArgs = [path.join(bin, "pg_ctl"), "-D", path.join(dir, "data"), "-m", "immediate", "stop"];
  // If this process dies without cleaning up, the watcher stops the cluster and removes its folder.
  const stopCommand = [...asPostgres, ...stopArgs].map(shellQuote).join(" ");
  const watcher = spawn(
    "sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCommand} >/dev/null 2>&1; rm -rf ${shellQuote(dir)}`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watcher.unref();
  run([
    path.join(bin, "pg_ctl"),
    "-D",
    path.join(dir, "data"),
    "-l",
    path.join(dir, "log"),
    "-w",
    "-o",
    `-h 127.0.0.1 -p ${port} -k ${dir} -c max_connections=300`,
    "start",
  ]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    const [command, ...rest] = [...asPostgres, ...stopArgs];
    spawnSync(command!, rest, { stdio: "ignore" });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return { adminUrl, newDatabase: () => scratchDatabase(adminUrl), stop };
}

function idOf(user: string, flag = "-u"): string {
  return spawnSync("id", [flag, user], { encoding: "utf8" }).stdout.trim();
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
