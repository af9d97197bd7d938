import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { build } from "esbuild";
import { freePort } from "../../apps/server/src/testing/ports.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const resultsDir = path.join(repoRoot, "bench/results");
/** The bench builds its own copy of the server bundle, so it never rewrites apps/server/dist under a running e2e. */
const buildDir = path.join(resultsDir, ".build");
const watchdog = path.join(import.meta.dirname, "watchdog.mjs");

let built: Promise<{ server: string; mock: string; relay: string }> | undefined;

/**
 * The server bundle exactly as scripts/build.mjs makes it (esbuild, registry packages external), plus the
 * standalone mock. Same folder depth as apps/server/dist, so the bundle finds the repository root the same way.
 */
export function buildBundles(): Promise<{ server: string; mock: string; relay: string }> {
  built ??= (async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "apps/server/package.json"), "utf8"));
    // Workspace packages ship TypeScript and are bundled (as scripts/build.mjs does); registry packages stay external.
    const workspaces = new Set(
      JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).workspaces.map(
        (dir: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, dir, "package.json"), "utf8")).name,
      ),
    );
    const external = Object.keys(pkg.dependencies).filter((name: string) => !workspaces.has(name));
    fs.rmSync(buildDir, { recursive: true, force: true });
    await build({
      entryPoints: {
        main: path.join(repoRoot, "apps/server/src/main.ts"),
        "mock-server": path.join(repoRoot, "bench/mock-server.ts"),
        "floor-relay": path.join(repoRoot, "bench/floor-relay.ts"),
      },
      outdir: buildDir,
      splitting: true,
      chunkNames: "[name]-[hash]",
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: true,
      external: [...external, ...external.map((name: string) => `${name}/*`)],
      logLevel: "warning",
    });
    fs.copyFileSync(
      path.join(repoRoot, "apps/server/src/db/pglite-worker.mjs"),
      path.join(buildDir, "pglite-worker.mjs"),
    );
    return {
      server: path.join(buildDir, "main.js"),
      mock: path.join(buildDir, "mock-server.js"),
      relay: path.join(buildDir, "floor-relay.js"),
    };
  })();
  return built;
}

const children = new Set<ChildProcess>();

/** Kills whatever is still running (normal end, an error, Ctrl-C); the watchdog covers a killed bench. */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** stdout/stderr lines, newest last (bounded). */
  lines: string[];
  /** Resolves with the first stdout line that `match` accepts, or rejects when the process exits first. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

const MAX_LINES = 400;

/** A node process with the watchdog preloaded, its output kept (bounded) for error messages. */
export function spawnNode(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  scriptArgs: string[] = [],
): Spawned {
  const child = spawn(process.execPath, [...nodeArgs, "--import", watchdog, script, ...scriptArgs], {
    env: { ...process.env, ...env, BENCH_PARENT_PID: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > MAX_LINES) lines.shift();
  };
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    keep(line);
    for (const waiter of waiters) waiter(line);
  });
  readline.createInterface({ input: child.stderr! }).on("line", keep);
  return {
    child,
    pid: child.pid!,
    lines,
    waitForLine: (match, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no matching line within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (code: number | null) => finish(new Error(`process exited (${code})`));
        const waiter = (line: string) => {
          if (match(line)) finish(undefined, line);
        };
        function finish(error?: Error, line?: string) {
          clearTimeout(timer);
          waiters.delete(waiter);
          child.off("exit", onExit);
          if (error) reject(new Error(`${error.message}:\n${lines.slice(-30).join("\n")}`));
          else resolve(line!);
        }
        waiters.add(waiter);
        child.once("exit", onExit);
      }),
    stop: (signal = "SIGTERM", timeoutMs = 20_000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill(signal);
      }),
  };
}

export interface MockProcess extends Spawned {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/mock_llm/v1 */
  baseUrl: string;
  origin: string;
}

/** The mock LLM alone in its own process (bench/mock-server.ts), so its CPU is not the measured server's. */
export async function startMock(): Promise<MockProcess> {
  const { mock } = await buildBundles();
  const spawned = spawnNode(mock, { PORT: String(await freePort()) });
  const line = await spawned.waitForLine((l) => l.includes('"baseUrl"'), 30_000);
  const { baseUrl } = JSON.parse(line) as { baseUrl: string };
  return { ...spawned, baseUrl, origin: new URL(baseUrl).origin };
}

/** bench/floor-relay.ts in its own process, in front of `mock`. */
export async function startRelay(mock: MockProcess): Promise<Spawned & { url: string }> {
  const { relay } = await buildBundles();
  const spawned = spawnNode(relay, { MOCK_URL: mock.baseUrl });
  const line = await spawned.waitForLine((l) => l.includes('"url"'), 30_000);
  return { ...spawned, url: (JSON.parse(line) as { url: string }).url };
}

export interface ServerProcess extends Spawned {
  url: string;
  dataDir: string;
  /** Milliseconds from spawn to the "serving" log line. */
  servingMs: number;
  /** performance.now() of this process when the server was spawned. */
  spawnedAt: number;
  dispose(): Promise<void>;
}

export interface ServerOptions {
  dataDir?: string;
  databaseUrl?: string;
  env?: Record<string, string>;
  /** Called right after spawning, before the serving line (start-time measurements poll /up from here). */
  onSpawn?: (spawned: Spawned, port: number, spawnedAt: number) => void;
}

/** A real Cybros process from the bundle on a fresh (or the given) data folder, as `npm start` runs it. */
export async function startServer(options: ServerOptions = {}): Promise<ServerProcess> {
  const { server } = await buildBundles();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-"));
  const port = await freePort();
  const spawnedAt = performance.now();
  const spawned = spawnNode(
    server,
    {
      CYBROS_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      NODE_ENV: "production",
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    },
    // For diagnosis, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written at a clean exit).
    (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean),
  );
  options.onSpawn?.(spawned, port, spawnedAt);
  const line = await spawned.waitForLine((l) => /"msg":"Cybros is serving/.test(l), 120_000);
  const servingMs = performance.now() - spawnedAt;
  const { url } = JSON.parse(line) as { url: string };
  return {
    ...spawned,
    url,
    dataDir,
    servingMs,
    spawnedAt,
    dispose: async () => {
      await spawned.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcSample {
  rssMb: number;
  /** Peak RSS the kernel recorded for the process (VmHWM). */
  hwmMb: number;
  /** User + system CPU seconds so far. */
  cpuSeconds: number;
}

export function procSample(pid: number): ProcSample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces): state is field 3; utime, stime are 14, 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** Whole-machine CPU counters (all cores), to report how busy the machine was during a measurement. */
function systemCpu(): { busy: number; total: number } {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3]! + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface ResourceReport {
  seconds: number;
  peakRssMb: number;
  /** CPU of each watched process, in cores (1 = one core fully busy) averaged over the window. */
  cpuCores: Record<string, number>;
  /** The whole machine's busy share over the window, 0..1 of all cores (other people's work included). */
  machineBusy: number;
  loadAverage: number;
}

/** Samples RSS of `pids.server` every 100 ms and CPU of every watched process over a window. */
export class ResourceWatch {
  private readonly startCpu = new Map<string, number>();
  private readonly startSystem = systemCpu();
  private readonly started = performance.now();
  private peakRssMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Record<string, number>) {
    for (const [name, pid] of Object.entries(pids)) this.startCpu.set(name, procSample(pid)?.cpuSeconds ?? 0);
    this.sampleRss();
    this.timer = setInterval(() => this.sampleRss(), 100);
  }

  private sampleRss(): void {
    const pid = this.pids.server;
    if (pid === undefined) return;
    const sample = procSample(pid);
    if (sample) this.peakRssMb = Math.max(this.peakRssMb, sample.rssMb);
  }

  stop(): ResourceReport {
    clearInterval(this.timer);
    this.sampleRss();
    const seconds = (performance.now() - this.started) / 1000;
    const cpuCores: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const end = procSample(pid)?.cpuSeconds;
      if (end !== undefined) cpuCores[name] = (end - this.startCpu.get(name)!) / seconds;
    }
    const system = systemCpu();
    const machineBusy = (system.busy - this.startSystem.busy) / Math.max(1, system.total - this.startSystem.total);
    return { seconds, peakRssMb: this.peakRssMb, cpuCores, machineBusy, loadAverage: os.loadavg()[0]! };
  }
}
