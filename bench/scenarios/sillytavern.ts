import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../apps/server/src/testing/ports.js";
import { Api } from "../lib/client.js";
import { type MockProcess, ResourceWatch, resultsDir, type Spawned, spawnNode, startMock } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { epochNow, round, summarize } from "../lib/stats.js";
import { mockRequests } from "../lib/world.js";
import { LATE_START_MS, stampsIn, startLeadMs } from "./latency.js";

/**
 * The reference beside `latency` and `first-chunk`: SillyTavern, a chat front end whose server passes a completion
 * stream from the provider to the browser and stores nothing on the way, measured the same way against the same
 * mock process. It is not a dependency of the project: the pinned version is installed on first use into
 * bench/results/.sillytavern/ (gitignored) and reused.
 */
const VERSION = "1.19.0";
const installDir = path.join(resultsDir, ".sillytavern");
const packageDir = path.join(installDir, "node_modules/sillytavern");

function installedVersion(): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** `npm install` of the pinned version into its own folder, once; returns the server script. */
async function ensureInstalled(log: (message: string) => void): Promise<string> {
  if (installedVersion() !== VERSION) {
    log(`sillytavern: installing sillytavern@${VERSION} into ${path.relative(process.cwd(), installDir)}`);
    fs.mkdirSync(installDir, { recursive: true });
    const manifest = path.join(installDir, "package.json");
    // Its own package root, so npm never takes the repository's workspace root for it.
    if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, '{ "private": true }\n');
    const args = [
      "install",
      "--prefix",
      installDir,
      `sillytavern@${VERSION}`,
      "--save-exact",
      "--no-audit",
      "--no-fund",
    ];
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const npm = spawn("npm", args, { cwd: installDir, stdio: ["ignore", "pipe", "pipe"] });
      npm.stdout.on("data", (part: Buffer) => output.push(part.toString()));
      npm.stderr.on("data", (part: Buffer) => output.push(part.toString()));
      npm.once("error", reject);
      npm.once("exit", resolve);
    });
    if (code !== 0 || installedVersion() !== VERSION) {
      throw new Error(`npm ${args.join(" ")} failed (${code}):\n${output.join("").slice(-2000)}`);
    }
  }
  return path.join(packageDir, "server.js");
}

/**
 * config.yaml (YAML reads JSON) for a local, scripted run: 127.0.0.1 only (no listen mode, so no security
 * override is needed), whitelist mode as shipped (the client is 127.0.0.1), CSRF protection on (the client fetches
 * a token as the page does). Everything that would reach the network is off: the Docker host lookups of the
 * whitelist, extension and plugin updates, model and tokenizer downloads, the browser launch. Log level INFO, as
 * the measured Cybros runs with (DEBUG would print every request body); SillyTavern adds the other defaults.
 */
function config(port: number, dataRoot: string) {
  return {
    dataRoot,
    listen: false,
    port,
    protocol: { ipv4: true, ipv6: false },
    browserLaunch: { enabled: false },
    whitelistMode: true,
    whitelistDockerHosts: false,
    disableCsrfProtection: false,
    skipContentCheck: true,
    enableDownloadableTokenizers: false,
    enableServerPlugins: false,
    enableServerPluginsAutoUpdate: false,
    extensions: { autoUpdate: false, models: { autoDownload: false } },
    logging: { enableAccessLog: false, minLogLevel: 1 },
  };
}

interface SillyTavern extends Spawned {
  url: string;
  dispose(): Promise<void>;
}

/** SillyTavern in its own process on a free port, its config and data in a temporary folder. */
async function startSillyTavern(log: (message: string) => void): Promise<SillyTavern> {
  const server = await ensureInstalled(log);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sillytavern-bench-"));
  const dataRoot = path.join(home, "data");
  fs.mkdirSync(dataRoot);
  // Its front-end bundle is compiled by webpack at every start into <data>/_webpack (outside Docker): kept beside
  // the installation so only the first start pays for it.
  const webpackCache = path.join(installDir, "webpack");
  fs.mkdirSync(webpackCache, { recursive: true });
  fs.symlinkSync(webpackCache, path.join(dataRoot, "_webpack"));
  const port = await freePort();
  const configPath = path.join(home, "config.yaml");
  fs.writeFileSync(configPath, `${JSON.stringify(config(port, dataRoot), null, 2)}\n`);
  const spawned = spawnNode(
    server,
    {
      NODE_ENV: "production",
      // Its version check runs git in the package folder; without a ceiling git finds this repository above it.
      GIT_CEILING_DIRECTORIES: path.dirname(packageDir),
    },
    [],
    ["--configPath", configPath, "--dataRoot", dataRoot],
  );
  const dispose = async () => {
    await spawned.stop();
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    await spawned.waitForLine((line) => line.includes("SillyTavern is listening on"), 180_000);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { ...spawned, url: `http://127.0.0.1:${port}`, dispose };
}

const SYSTEM_PROMPT = "You are a helpful assistant.";

interface Completion {
  /** Each stamp in the reply, with the time this process read it off the socket. */
  stamps: { stamp: number; at: number }[];
  /** "data: [DONE]" arrived. */
  done: boolean;
  /** Socket reads of the response body: about one per chunk unless something between buffers or coalesces. */
  reads: number;
}

/**
 * The page's side of SillyTavern: the session cookie and CSRF token from GET /csrf-token, then one POST to the
 * Chat Completions generate endpoint per reply (source "custom": an OpenAI-compatible URL, here the mock), whose
 * body is the provider's SSE stream. One clock read per socket read, before parsing, as bench/lib/client.ts does.
 */
class TavernPage {
  readonly api: Api;
  private token = "";

  constructor(
    url: string,
    private readonly mockUrl: string,
  ) {
    this.api = new Api(url);
  }

  async open(): Promise<void> {
    this.token = (await this.api.request<{ token: string }>("GET", "/csrf-token")).token;
    if (!this.api.cookie) throw new Error("SillyTavern set no session cookie");
  }

  /** Sends `content` as the last user message; `onStamp` sees each stamped chunk as it is read. */
  complete(content: string, onStamp?: (stamp: number, at: number) => void): Promise<Completion> {
    // The fields the page sends for a custom source (public/scripts/openai.js, createGenerationParameters), with
    // its defaults; max_tokens high enough for the mock (it cuts replies at 4 characters a token).
    const body = JSON.stringify({
      type: "normal",
      messages: [
        { role: "system", content: SYSTEM_PROMPT },
        { role: "user", content },
      ],
      model: "mock-model",
      temperature: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      top_p: 1,
      max_tokens: 8192,
      stream: true,
      chat_completion_source: "custom",
      custom_url: this.mockUrl,
      custom_include_body: "",
      custom_exclude_body: "",
      custom_include_headers: "",
    });
    const result: Completion = { stamps: [], done: false, reads: 0 };
    return new Promise((resolve, reject) => {
      const request = http.request(
        new URL("/api/backends/chat-completions/generate", this.api.baseUrl),
        {
          method: "POST",
          agent: this.api.agent,
          headers: {
            origin: this.api.origin,
            cookie: this.api.cookie,
            "x-csrf-token": this.token,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            // As a browser asks; a compressed (so possibly buffered) stream is refused below.
            "accept-encoding": "gzip, deflate, br",
          },
        },
        (res) => {
          if (res.statusCode !== 200 || res.headers["content-encoding"]) {
            res.resume();
            reject(new Error(`generate answered ${res.statusCode} ${res.headers["content-encoding"] ?? ""}`));
            return;
          }
          res.setEncoding("utf8");
          let buffer = "";
          res.on("data", (text: string) => {
            const at = epochNow();
            result.reads++;
            buffer += text;
            let end = buffer.indexOf("\n\n");
            while (end >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf("\n\n");
              if (!block.startsWith("data: ")) continue;
              const data = block.slice(6);
              if (data === "[DONE]") {
                result.done = true;
                continue;
              }
              const delta = JSON.parse(data).choices?.[0]?.delta?.content;
              if (!delta) continue;
              for (const stamp of stampsIn(delta)) {
                result.stamps.push({ stamp, at });
                onStamp?.(stamp, at);
              }
            }
          });
          res.on("end", () => resolve(result));
          res.on("error", reject);
        },
      );
      request.on("error", (error) => reject(new Error(`generate: ${error.message}`)));
      request.end(body);
    });
  }
}

/** As warmUp (bench/lib/world.ts) does for Cybros: 4 × 10 replies before anything is measured. */
async function warmUp(page: TavernPage): Promise<void> {
  for (let round = 0; round < 4; round++) {
    await Promise.all(Array.from({ length: 10 }, () => page.complete("/mock stamps count=20 delay=2")));
  }
}

/**
 * `count` replies of `chunks` stamped chunks `delay` ms apart, all sent at once, every first chunk held by the
 * mock until one common moment (as `latency`'s streamingRound): read time − stamp for every chunk.
 */
async function streamingRound(
  page: TavernPage,
  processes: Record<string, number>,
  count: number,
  chunks: number,
  delay: number,
) {
  const startAt = Math.ceil(epochNow() + startLeadMs(count));
  const replies = Promise.all(
    Array.from({ length: count }, () =>
      page.complete(`/mock stamps count=${chunks} delay=${delay} start_at=${startAt}`).catch((error: Error) => error),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - epochNow())));
  const watch = new ResourceWatch(processes);
  const results = await replies;
  const resources = watch.stop();
  const completions = results.filter((r): r is Completion => !(r instanceof Error));
  const latencies = Float64Array.from(completions.flatMap((c) => c.stamps.map(({ stamp, at }) => at - stamp)));
  return {
    latencies,
    received: latencies.length,
    expected: count * chunks,
    reads: completions.reduce((sum, c) => sum + c.reads, 0),
    failed: results.length - completions.filter((c) => c.done).length,
    failures: [...new Set(results.filter((r) => r instanceof Error).map((e) => e.message))].slice(0, 5),
    lateStarts: completions.filter((c) => (c.stamps[0]?.stamp ?? Number.POSITIVE_INFINITY) > startAt + LATE_START_MS)
      .length,
    resources,
  };
}

/**
 * `count` replies sent at once; for each, send → first stamped chunk read, minus the mock's own time to first token
 * (first stamp − when the mock received the request, matched by the tag line under the directive), as
 * `first-chunk` measures Cybros.
 */
interface FirstChunk {
  /** send → first chunk − the provider's own time to first token */
  overhead: number;
  raw: number;
  provider: number;
}

async function firstChunks(
  page: TavernPage,
  mock: MockProcess,
  count: number,
  nextTag: () => string,
): Promise<FirstChunk[]> {
  const probes = Array.from({ length: count }, () => ({ tag: nextTag(), sentAt: 0, firstAt: 0, firstStamp: 0 }));
  await Promise.all(
    probes.map((probe) => {
      probe.sentAt = epochNow();
      return page.complete(`/mock stamps count=3 delay=5\n${probe.tag}`, (stamp, at) => {
        if (probe.firstAt) return;
        probe.firstAt = at;
        probe.firstStamp = stamp;
      });
    }),
  );
  const received = new Map((await mockRequests(mock)).map((r) => [r.tag, r.receivedAt]));
  return probes.map((probe) => {
    const receivedAt = received.get(probe.tag);
    if (receivedAt === undefined || !probe.firstAt) throw new Error(`probe ${probe.tag} saw no chunk`);
    const raw = probe.firstAt - probe.sentAt;
    const provider = probe.firstStamp - receivedAt;
    return { overhead: raw - provider, raw, provider };
  });
}

export const sillytavernScenario: Scenario = {
  name: "sillytavern",
  title: `Reference: SillyTavern ${VERSION} (a pass-through that stores nothing) measured as latency and first-chunk`,
  postgres: false,
  // Installs SillyTavern on first use: `npm run bench -- sillytavern`, not part of a run that names no scenario.
  onlyWhenNamed: true,
  async run(context: ScenarioContext) {
    // The same sizes and switches as `latency` and `first-chunk` (BENCH_LATENCY_LEVELS, BENCH_FIRST_CHUNK_BURST).
    const levels = context.smoke ? [5] : (process.env.BENCH_LATENCY_LEVELS?.split(",").map(Number) ?? [25]);
    const chunks = context.smoke ? 30 : 200;
    const delay = 10;
    const singles = context.smoke ? 3 : 15;
    const burst = context.smoke ? 5 : Number(process.env.BENCH_FIRST_CHUNK_BURST) || 25;

    const mock = await startMock();
    let tavern: SillyTavern | undefined;
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = { version: VERSION, chunks, delayMs: delay };
    try {
      tavern = await startSillyTavern(context.log);
      const page = new TavernPage(tavern.url, mock.baseUrl);
      await page.open();
      await warmUp(page);
      const processes = { server: tavern.pid, mock: mock.pid, client: process.pid };

      for (const level of levels) {
        context.log(`sillytavern: ${level} stream(s) × ${chunks} chunks`);
        const r = await streamingRound(page, processes, level, chunks, delay);
        if (r.lateStarts > 0) context.log(`sillytavern: ${r.lateStarts} of ${level} streams started late`);
        const s = summarize(r.latencies);
        const streams = `${level} stream${level > 1 ? "s" : ""}`;
        metrics.push(
          {
            key: `sillytavern.latency.${level}.p50`,
            label: `added latency, ${streams}, p50`,
            unit: "ms",
            value: s.p50,
          },
          {
            key: `sillytavern.latency.${level}.p99`,
            label: `added latency, ${streams}, p99`,
            unit: "ms",
            value: s.p99,
          },
          {
            key: `sillytavern.latency.${level}.missing`,
            label: `stamped chunks not received, ${streams}`,
            unit: "",
            value: r.expected - r.received + r.failed,
            target: { op: "==", value: 0 },
            combine: "max",
            correctness: true,
          },
        );
        details[`level${level}`] = {
          ...s,
          received: r.received,
          expected: r.expected,
          failed: r.failed,
          failures: r.failures,
          socketReadsPerChunk: round(r.reads / Math.max(1, r.received), 3),
          lateStarts: r.lateStarts,
          resources: {
            ...r.resources,
            cpuCores: Object.fromEntries(Object.entries(r.resources.cpuCores).map(([k, v]) => [k, round(v, 3)])),
          },
        };
      }

      context.log(`sillytavern: ${singles} single sends, then ${burst} at once`);
      let n = 0;
      const nextTag = () => `probe-${process.pid}-st-${n++}-${Math.random().toString(36).slice(2, 8)}`;
      const single: FirstChunk[] = [];
      for (let i = 0; i < singles; i++) single.push(...(await firstChunks(page, mock, 1, nextTag)));
      const many = await firstChunks(page, mock, burst, nextTag);
      const summaries = (list: FirstChunk[]) => ({
        overhead: summarize(list.map((p) => p.overhead)),
        raw: summarize(list.map((p) => p.raw)),
        providerTtft: summarize(list.map((p) => p.provider)),
      });
      const one = summaries(single);
      const all = summaries(many);
      const label = "send → first chunk − provider TTFT";
      metrics.push(
        { key: "sillytavern.first-chunk.1.p50", label: `${label}, 1 send, p50`, unit: "ms", value: one.overhead.p50 },
        { key: "sillytavern.first-chunk.1.p99", label: `${label}, 1 send, p99`, unit: "ms", value: one.overhead.p99 },
        {
          key: `sillytavern.first-chunk.${burst}.p50`,
          label: `${label}, ${burst} sends at once, p50`,
          unit: "ms",
          value: all.overhead.p50,
        },
        {
          key: `sillytavern.first-chunk.${burst}.p99`,
          label: `${label}, ${burst} sends at once, p99`,
          unit: "ms",
          value: all.overhead.p99,
        },
      );
      details.firstChunk = { single: one, burst: all };
      page.api.close();
    } finally {
      await tavern?.dispose();
      await mock.stop();
    }
    return { metrics, details };
  },
};
