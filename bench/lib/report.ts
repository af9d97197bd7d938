import { median, round } from "./stats.js";

export type Backend = "pglite" | "postgres";

export interface Target {
  op: "<=" | ">=" | "==";
  value: number;
}

/** One number a scenario run produced. Runs of the same metric are combined by `combine` (median by default). */
export interface Metric {
  /** Stable identifier, e.g. "latency.25.p99". */
  key: string;
  label: string;
  unit: string;
  value: number;
  target?: Target;
  /** Correctness counts combine by max: one bad run is a failure, not an outlier. */
  combine?: "median" | "max";
  /** Counted as a failure of the bench (exit code), not only a missed performance target. */
  correctness?: boolean;
}

export interface ScenarioRun {
  metrics: Metric[];
  /** Anything worth keeping in the JSON (per-level details, load conditions). */
  details?: Record<string, unknown>;
}

export interface ScenarioContext {
  backend: Backend;
  smoke: boolean;
  /** A fresh database URL on the PostgreSQL server (backend "postgres" only), dropped by `drop`. */
  newPostgresDatabase?: () => Promise<{ url: string; drop: () => Promise<void> }>;
  log: (message: string) => void;
}

export interface Scenario {
  name: string;
  /** DESIGN.md §7 wording, for the table's section header. */
  title: string;
  /** Runs on a PostgreSQL server too when --postgres (scenarios 1–4). */
  postgres: boolean;
  /** Heavy scenarios run once even when --runs asks for more (their numbers come from many samples). */
  maxRuns?: number;
  /** Left out of a run that names no scenario (it downloads something, or measures something else than Cybros). */
  onlyWhenNamed?: boolean;
  run(context: ScenarioContext): Promise<ScenarioRun>;
}

export interface CombinedMetric extends Omit<Metric, "value"> {
  scenario: string;
  backend: Backend;
  value: number;
  runs: number[];
  status: "pass" | "miss" | "info";
}

export function combine(scenario: string, backend: Backend, runs: ScenarioRun[]): CombinedMetric[] {
  const byKey = new Map<string, Metric[]>();
  for (const run of runs) {
    for (const metric of run.metrics) {
      const list = byKey.get(metric.key) ?? [];
      list.push(metric);
      byKey.set(metric.key, list);
    }
  }
  return [...byKey.values()].map((list) => {
    const first = list[0]!;
    const values = list.map((m) => m.value);
    const value = first.combine === "max" ? Math.max(...values) : median(values);
    return { ...first, scenario, backend, value, runs: values, status: statusOf(value, first.target) };
  });
}

function statusOf(value: number, target: Target | undefined): CombinedMetric["status"] {
  if (!target) return "info";
  if (!Number.isFinite(value)) return "miss";
  if (target.op === "<=") return value <= target.value ? "pass" : "miss";
  if (target.op === ">=") return value >= target.value ? "pass" : "miss";
  return value === target.value ? "pass" : "miss";
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "%") return `${round(value, 1)} %`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return unit ? `${round(value, digits)} ${unit}` : String(round(value, digits));
}

/** One table: metric, target, measured (median over runs), result. */
export function formatTable(metrics: CombinedMetric[]): string {
  const rows = metrics.map((m) => [
    `${m.label}${m.backend === "postgres" ? " [postgres]" : ""}`,
    m.target
      ? `${m.target.op === "==" ? "=" : m.target.op === "<=" ? "≤" : "≥"} ${formatValue(m.target.value, m.unit)}`
      : "",
    formatValue(m.value, m.unit) + (m.runs.length > 1 ? ` (${m.runs.length} runs)` : ""),
    m.status === "info" ? "" : m.status,
  ]);
  const header = ["metric", "target", "measured", "result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [line(header), line(widths.map((w) => "─".repeat(w)))];
  let section = "";
  for (const [index, row] of rows.entries()) {
    const metric = metrics[index]!;
    const name = `${metric.scenario}${metric.backend === "postgres" ? " (postgres)" : ""}`;
    if (name !== section) {
      section = name;
      out.push(`· ${name}`);
    }
    out.push(line(row));
  }
  return out.join("\n");
}
