/**
 * `npm run bench [-- <scenario…>] [--smoke] [--runs N] [--postgres] [--neighbour]`: measures the DESIGN.md §7
 * targets on this machine against the mock LLM, prints one table and writes JSON to bench/results/.
 * BENCH_DATABASE_URL (an admin URL) runs scenarios 1–4 on that PostgreSQL server too; --postgres starts a temporary
 * cluster instead. --neighbour runs each scenario beside a process that keeps one core busy.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { externalPostgres, type PostgresServer, startTemporaryPostgres } from "./lib/postgres.js";
import { killChildren, repoRoot, resultsDir, type Spawned, spawnNode } from "./lib/processes.js";
import {
  type Backend,
  type CombinedMetric,
  combine,
  formatTable,
  type Scenario,
  type ScenarioRun,
} from "./lib/report.js";
import { round } from "./lib/stats.js";
import { cacheScenario } from "./scenarios/cache.js";
import { concurrencyScenario } from "./scenarios/concurrency.js";
import { contextScenario } from "./scenarios/context.js";
import { directivesScenario } from "./scenarios/directives.js";
import { firstChunkScenario } from "./scenarios/first-chunk.js";
import { latencyScenario } from "./scenarios/latency.js";
import { memoryScenario } from "./scenarios/memory.js";
import { sillytavernScenario } from "./scenarios/sillytavern.js";
import { startScenario } from "./scenarios/start.js";
import { waitsScenario } from "./scenarios/waits.js";

const scenarios: Scenario[] = [
  latencyScenario,
  concurrencyScenario,
  firstChunkScenario,
  contextScenario,
  memoryScenario,
  startScenario,
  cacheScenario,
  waitsScenario,
  directivesScenario,
  sillytavernScenario,
];

interface Options {
  names: string[];
  smoke: boolean;
  runs: number;
  postgres: boolean;
  /** A neighbour process burns one core while each scenario runs. */
  neighbour: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    names: [],
    smoke: false,
    runs: 3,
    postgres: Boolean(process.env.BENCH_DATABASE_URL),
    neighbour: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--smoke") options.smoke = true;
    else if (arg === "--postgres") options.postgres = true;
    else if (arg === "--neighbour") options.neighbour = true;
    else if (arg === "--runs") options.runs = Math.max(1, Number(argv[++i]) || 1);
    else if (arg.startsWith("--runs=")) options.runs = Math.max(1, Number(arg.slice(7)) || 1);
    else if (arg === "--help" || arg === "-h") {
      console.log(
        `usage: npm run bench -- [scenario…] [--smoke] [--runs N] [--postgres] [--neighbour]\nscenarios: ${scenarios.map((s) => `${s.name} (${s.title})`).join("\n           ")}`,
      );
      process.exit(0);
    } else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else options.names.push(arg);
  }
  for (const name of options.names) {
    if (!scenarios.some((s) => s.name === name)) {
      throw new Error(`unknown scenario "${name}"; one of: ${scenarios.map((s) => s.name).join(", ")}`);
    }
  }
  if (options.smoke) options.runs = 1;
  return options;
}

function gitDescribe(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return "unknown";
  }
}

/** bench/lib/neighbour.mjs: one core kept busy until stopped (it also stops by itself after a while). */
async function startNeighbour(): Promise<Spawned> {
  const neighbour = spawnNode(path.join(repoRoot, "bench/lib/neighbour.mjs"), {});
  await neighbour.waitForLine((line) => line.includes('"neighbour"'), 10_000);
  return neighbour;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const selected = options.names.length
    ? scenarios.filter((s) => options.names.includes(s.name))
    : scenarios.filter((s) => !s.onlyWhenNamed);
  const started = new Date();
  const log = (message: string) =>
    console.error(`[${((Date.now() - started.getTime()) / 1000).toFixed(1)}s] ${message}`);
  const loadBefore = os.loadavg();
  log(
    `bench ${options.smoke ? "smoke " : ""}on ${os.cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`,
  );

  let postgres: PostgresServer | undefined;
  const results: CombinedMetric[] = [];
  const raw: Record<string, unknown>[] = [];
  const errors: { scenario: string; backend: Backend; error: string }[] = [];
  try {
    if (options.postgres && selected.some((s) => s.postgres)) {
      postgres = process.env.BENCH_DATABASE_URL
        ? externalPostgres(process.env.BENCH_DATABASE_URL)
        : await startTemporaryPostgres();
      log(`PostgreSQL at ${postgres.adminUrl.replace(/:[^:@/]*@/, ":***@")}`);
    }
    for (const scenario of selected) {
      const backends: Backend[] = scenario.postgres && postgres ? ["pglite", "postgres"] : ["pglite"];
      for (const backend of backends) {
        const runs: ScenarioRun[] = [];
        const count = Math.min(options.runs, scenario.maxRuns ?? Number.POSITIVE_INFINITY);
        for (let n = 1; n <= count; n++) {
          log(`${scenario.name} [${backend}] run ${n}/${count}${options.neighbour ? " beside a busy neighbour" : ""}`);
          const neighbour = options.neighbour ? await startNeighbour() : undefined;
          try {
            const run = await scenario.run({
              backend,
              smoke: options.smoke,
              newPostgresDatabase: postgres?.newDatabase,
              log,
            });
            runs.push(run);
            raw.push({ scenario: scenario.name, backend, run: n, metrics: run.metrics, details: run.details });
          } catch (error) {
            const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
            log(`${scenario.name} [${backend}] failed: ${message}`);
            errors.push({ scenario: scenario.name, backend, error: message });
            killChildren();
            break;
          } finally {
            await neighbour?.stop();
          }
        }
        results.push(...combine(scenario.name, backend, runs));
      }
    }
  } finally {
    postgres?.stop();
  }

  const loadAfter = os.loadavg();
  console.log(
    `\nCybros bench — ${started.toISOString()} — ${gitDescribe()} — node ${process.version}, ${os.cpus().length} cores — ` +
      `load average ${loadBefore[0]!.toFixed(2)} → ${loadAfter[0]!.toFixed(2)}${options.neighbour ? " — beside a neighbour burning one core" : ""}${options.smoke ? " — SMOKE (tiny sizes, 1 run)" : ""}\n`,
  );
  console.log(formatTable(results));
  for (const error of errors)
    console.log(`\n✗ ${error.scenario} [${error.backend}] did not finish: ${error.error.split("\n")[0]}`);

  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const file = path.join(
    resultsDir,
    `bench-${stamp}${options.neighbour ? "-neighbour" : ""}${options.smoke ? "-smoke" : ""}.json`,
  );
  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    commit: gitDescribe(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverage: { before: loadBefore, after: loadAfter },
    options,
    results: results.map((r) => ({ ...r, value: round(r.value, 3), runs: r.runs.map((v) => round(v, 3)) })),
    runs: raw,
    errors,
  };
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`);
  const broken = results.filter((r) => r.correctness && r.status === "miss");
  return errors.length || broken.length ? 1 : 0;
}

main().then(
  (code) => {
    killChildren();
    process.exit(code);
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    killChildren();
    process.exit(2);
  },
);
