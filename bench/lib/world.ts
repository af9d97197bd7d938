import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Api } from "./client.js";
import { type MockProcess, type ServerProcess, startMock, startServer } from "./processes.js";
import type { ScenarioContext } from "./report.js";

/** Mock, server and this process as the client: three processes, as a deployment with a remote provider. */
export interface World {
  mock: MockProcess;
  server: ServerProcess;
  api: Api;
  agentId: string;
  close(): Promise<void>;
}

let template: Promise<string> | undefined;

/**
 * A PGlite data folder that has been through first start and setup, copied for each world: PGlite's initdb
 * costs seconds (much more on a loaded machine) and is measured by the start scenario, not here.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-template-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const server = await startServer({ dataDir: dir });
    try {
      await new Api(server.url).signIn();
    } finally {
      await server.stop();
    }
    return dir;
  })();
  return template;
}

/** `serverEnv`: extra environment for the measured server (e.g. CYBROS_AGENTS_DIR). */
export async function startWorld(
  context: ScenarioContext,
  options: { serverEnv?: Record<string, string> } = {},
): Promise<World> {
  const database = context.backend === "postgres" ? await context.newPostgresDatabase!() : undefined;
  let dataDir: string | undefined;
  if (!database) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-"));
    fs.cpSync(await pgliteTemplate(), dataDir, { recursive: true });
  }
  const mock = await startMock();
  let server: ServerProcess | undefined;
  const cleanup = async () => {
    await server?.stop();
    await mock.stop();
    await database?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    server = await startServer({ dataDir, databaseUrl: database?.url, env: options.serverEnv });
    const api = new Api(server.url);
    await api.signIn();
    await api.useProvider(mock.baseUrl);
    const agentId = await api.defaultAgentId();
    return {
      mock,
      server,
      api,
      agentId,
      close: async () => {
        api.close();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Brings a fresh server to the state a long-running one is in before anything is measured: `rounds` × `perRound`
 * replies, each streaming a few chunks. A new process runs its first requests on unoptimised code, V8's for
 * JavaScript and for PGlite's WebAssembly alike: on this machine a PGlite insert took 5–9 ms over the first dozen
 * sends and 0.5–1 ms after about thirty.
 */
export async function warmUp(world: World, rounds = 4, perRound = 10): Promise<void> {
  const { api, agentId } = world;
  for (let round = 0; round < rounds; round++) {
    const ids = await inBatches(
      Array.from({ length: perRound }, () => 0),
      8,
      () => api.createConversation(agentId),
    );
    const streams = await Promise.all(ids.map((id) => api.openEvents(id, () => {})));
    try {
      const runs = await Promise.all(ids.map((id) => api.send(id, "/mock stamps count=20 delay=2")));
      await Promise.all(runs.map((run, i) => streams[i]!.runEnded(run.runId)));
    } finally {
      for (const stream of streams) stream.close();
    }
  }
}

/** Runs `task` for each item with at most `limit` in flight. */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface MockRequestInfo {
  id: number;
  receivedAt: number;
  tag: string;
  promptTokens: number;
  cachedTokens: number;
  chunksSent: number;
  outcome: string | null;
}

export async function mockRequests(mock: MockProcess): Promise<MockRequestInfo[]> {
  const response = await fetch(`${mock.origin}/bench/requests`);
  return (await response.json()) as MockRequestInfo[];
}
