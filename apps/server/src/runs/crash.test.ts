import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterEach, expect, it } from "vitest";
import { repoRoot } from "../config.js";
import { EventStreamReader } from "../testing/events.js";
import { OWNER, startTestServer, type TestServer, usingPostgres } from "../testing/harness.js";
import { reapStaleRuns } from "./index.js";

// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape
const json = async (response: Response): Promise<any> => response.json();

let child: ChildProcess | undefined;
let server: TestServer | undefined;
let dataDir: string;

afterEach(async () => {
  child?.kill("SIGKILL");
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A real server process we can kill without letting it clean up, like a crash or an OOM kill. */
async function spawnServer(env: Record<string, string>): Promise<string> {
  // tsx as a loader in the same process (its CLI would fork a grandchild that survives our SIGKILL).
  child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "apps/server/src/main.ts")], {
    cwd: repoRoot,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child!.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    lines.on("line", (line) => {
      if (line.includes("Cybros is serving")) resolve(JSON.parse(line).url);
    });
  });
}

it("fails a run whose worker died mid-stream, and the run can be retried", async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-crash-"));
  const databaseUrl = usingPostgres ? await scratchDatabaseUrl() : undefined;
  const env: Record<string, string> = {
    CYBROS_DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  const url = await spawnServer(env);

  const headers = { "content-type": "application/json", origin: url };
  const setup = await fetch(`${url}/api/setup`, {
    method: "POST",
    headers,
    body: JSON.stringify({ ...OWNER, passwordConfirmation: OWNER.password }),
  });
  expect(setup.status).toBe(201);
  const cookie = setup.headers.get("set-cookie")!.split(";")[0]!;
  const authed = { ...headers, cookie };
  const agents = await json(await fetch(`${url}/api/agents`, { headers: authed }));
  const agentProgramId = agents.agents[0].id;
  const conversation = await json(
    await fetch(`${url}/api/conversations`, {
      method: "POST",
      headers: authed,
      body: JSON.stringify({ agentProgramId }),
    }),
  );
  const posted = await json(
    await fetch(`${url}/api/conversations/${conversation.id}/messages`, {
      method: "POST",
      headers: authed,
      body: JSON.stringify({ content: "/mock long kb=2 delay=20 chunk_size=20" }),
    }),
  );
  const stream = new EventStreamReader(
    await fetch(`${url}/api/conversations/${conversation.id}/events?cursor=0`, { headers: authed }),
  );
  // Mid-reply, after a few of the stream writer's 50 ms flushes (20 characters every 20 ms).
  await stream.waitFor((e) => e.kind === "stream_chunk" && Number(e.payload.offset) >= 200);
  stream.close();
  child!.kill("SIGKILL");
  await new Promise((resolve) => child!.once("exit", resolve));
  child = undefined;

  // A new process on the same data: the interrupted run must end failed and retryable, never stay "running".
  server = await startTestServer({ env, ...(databaseUrl ? { databaseUrl } : { pgliteDir: path.join(dataDir, "db") }) });
  if (usingPostgres) expect(await reapStaleRuns(server.services, 0)).toBe(1);
  const client = server.client();
  await server.url();
  expect((await client.post("/api/session", OWNER)).status).toBe(201);
  const run = await (await client.get(`/api/runs/${posted.run.id}`)).json();
  expect(run.run.state).toBe("failed");
  expect(["interrupted", "stale_run"]).toContain(run.run.error.code);

  const events = await EventStreamReader.open(client, conversation.id, 0);
  const retry = await client.post(`/api/runs/${posted.run.id}/retry`);
  expect(retry.status).toBe(202);
  const retryId = (await retry.json()).id;
  await events.waitFor((e) => e.run_id === retryId && e.kind === "run_succeeded", 60_000);
  events.close();
}, 240_000);

async function scratchDatabaseUrl(): Promise<string> {
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: process.env.CYBROS_TEST_DATABASE_URL });
  await admin.connect();
  const name = `cybros_crash_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.CYBROS_TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}
