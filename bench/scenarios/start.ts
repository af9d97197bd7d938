import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Api } from "../lib/client.js";
import { procSample, startServer } from "../lib/processes.js";
import type { Metric, Scenario } from "../lib/report.js";

/** GET /up once; true when it answered 200. */
function upAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/up", timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** Spawns the bundle on `dataDir`; times the "serving" log line and the first 200 from /up (polled every 5 ms). */
async function timedStart(dataDir: string) {
  let upMs: Promise<number> | undefined;
  const server = await startServer({
    dataDir,
    onSpawn: (spawned, port, spawnedAt) => {
      upMs = (async () => {
        const deadline = spawnedAt + 180_000;
        while (performance.now() < deadline && spawned.child.exitCode === null) {
          if (await upAnswers(port)) return performance.now() - spawnedAt;
          await new Promise((r) => setTimeout(r, 5));
        }
        return Number.NaN;
      })();
    },
  });
  return { server, servingMs: server.servingMs, upMs: await upMs! };
}

export const startScenario: Scenario = {
  name: "start",
  title: "Start time (node apps/server/dist/main.js) with an empty and an existing data folder",
  postgres: false,
  async run() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-start-"));
    try {
      const empty = await timedStart(dataDir);
      // A first start creates the database (initdb): its memory must not stay with the server.
      const emptyRss = procSample(empty.server.pid)?.rssMb ?? Number.NaN;
      const api = new Api(empty.server.url);
      await api.signIn();
      await api.createConversation(await api.defaultAgentId());
      api.close();
      await empty.server.stop();
      const existing = await timedStart(dataDir);
      const idleRss = procSample(existing.server.pid)?.rssMb ?? Number.NaN;
      await existing.server.stop();
      const metrics: Metric[] = [
        { key: "start.empty.serving", label: "start → serving, empty data folder", unit: "ms", value: empty.servingMs },
        { key: "start.empty.up", label: "start → /up answers, empty data folder", unit: "ms", value: empty.upMs },
        { key: "start.empty.rss", label: "server RSS after start, empty data folder", unit: "MB", value: emptyRss },
        {
          key: "start.existing.serving",
          label: "start → serving, existing data folder",
          unit: "ms",
          value: existing.servingMs,
          target: { op: "<=", value: 3_000 },
        },
        {
          key: "start.existing.up",
          label: "start → /up answers, existing data folder",
          unit: "ms",
          value: existing.upMs,
        },
        {
          key: "start.existing.rss",
          label: "server RSS after start, existing data folder",
          unit: "MB",
          value: idleRss,
        },
      ];
      return { metrics };
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
