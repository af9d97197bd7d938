import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { and, asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../config.js";
import { agentMemoryEntries, runSteps } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import { agentsRequiringApproval } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { OWNER, startTestServer, type TestClient, type TestServer, usingPostgres } from "../testing/harness.js";
import { resolveWait, resumeAbandonedRuns } from "./index.js";
import { childRunKey } from "./steps/await-run.js";
import { LEASE_MS } from "./store.js";

// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape
const json = async (response: Response): Promise<any> => response.json();

let child: ChildProcess | undefined;
const servers: TestServer[] = [];
const sites: http.Server[] = [];
let dataDir: string;
let agentsDir: string;

afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  for (const server of servers.splice(0).reverse()) await server.close();
  for (const site of sites.splice(0)) {
    site.closeAllConnections();
    site.close();
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(agentsDir, { recursive: true, force: true });
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

/**
 * Process A (a child we kill -9) on a data folder or PostgreSQL database, then a server on the same data: a
 * restart (PGlite) or, on PostgreSQL, a second process that was already there.
 */
async function deployment() {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-crash-"));
  agentsDir = agentsRequiringApproval(["memory_store"]);
  const databaseUrl = usingPostgres ? await scratchDatabaseUrl() : undefined;
  const env: Record<string, string> = {
    CYBROS_DATA_DIR: dataDir,
    CYBROS_AGENTS_DIR: agentsDir,
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
  const authed = { ...headers, cookie: setup.headers.get("set-cookie")!.split(";")[0]! };
  const { agents } = await json(await fetch(`${url}/api/agents`, { headers: authed }));
  const assistant = agents.find((a: { profileSource: string }) => a.profileSource === "bundled:default-assistant");
  const conversation = await json(
    await fetch(`${url}/api/conversations`, {
      method: "POST",
      headers: authed,
      body: JSON.stringify({ agentProgramId: assistant.id }),
    }),
  );
  const events = new EventStreamReader(
    await fetch(`${url}/api/conversations/${conversation.id}/events?cursor=0`, { headers: authed }),
  );
  return {
    conversationId: conversation.id as string,
    /** Events as process A sent them. */
    events,
    async send(content: string): Promise<string> {
      const posted = await fetch(`${url}/api/conversations/${conversation.id}/messages`, {
        method: "POST",
        headers: authed,
        body: JSON.stringify({ content }),
      });
      return (await json(posted)).run.id;
    },
    async allowFetching(host: string) {
      const response = await fetch(`${url}/api/account/settings`, {
        method: "PATCH",
        headers: authed,
        body: JSON.stringify({ webFetchAllowlist: [host] }),
      });
      expect(response.status).toBe(200);
    },
    /** kill -9 on A, then the other server takes over (it resumes what A left once it listens). */
    async takeOver(): Promise<{ server: TestServer; client: TestClient; events: EventStreamReader }> {
      events.close();
      child!.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
      child = undefined;
      const server = await startTestServer({
        env,
        ...(databaseUrl ? { databaseUrl } : { pgliteDir: path.join(dataDir, "db") }),
      });
      servers.push(server);
      const client = server.client();
      await server.url();
      expect((await client.post("/api/session", OWNER)).status).toBe(201);
      const after = await EventStreamReader.open(client, conversation.id, 0);
      // On PostgreSQL the dead process's lease must lapse first: the sweep is asked as if it had.
      if (usingPostgres) await resumeAbandonedRuns(server.services, new Date(Date.now() + LEASE_MS + 1_000));
      return { server, client, events: after };
    },
  };
}

const stepsOf = (server: TestServer, runId: string) =>
  server.services.db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.ordinal));

async function transcript(client: TestClient, conversationId: string) {
  const page = await (await client.get(`/api/conversations/${conversationId}/messages?limit=200`)).json();
  return page.messages as {
    role: string;
    text: string;
    state: string;
    error: { code: string } | null;
    parts: { type: string; name?: string; state?: string }[];
  }[];
}

describe("a run killed with its process continues where it was (on PostgreSQL: in another process)", () => {
  it("a streaming model call is repeated once: the cut attempt stays marked interrupted, the reply is whole once", async () => {
    const a = await deployment();
    const runId = await a.send("/mock long kb=2 delay=20 chunk_size=20");
    // Mid-reply, after a few of the stream writer's 50 ms flushes (20 characters every 20 ms).
    await a.events.waitFor((e) => e.kind === "stream_chunk" && Number(e.payload.offset) >= 300);
    const { server, client, events } = await a.takeOver();
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId, 60_000);

    const messages = await transcript(client, a.conversationId);
    expect(messages.map((m) => [m.role, m.state, m.error?.code ?? null])).toEqual([
      ["user", "completed", null],
      ["assistant", "errored", "interrupted"],
      ["assistant", "completed", null],
    ]);
    const [, cut, whole] = messages;
    expect(whole!.text).toHaveLength(2048);
    // What was persisted before the kill (the unsaved tail died with the process).
    expect(cut!.text.length).toBeGreaterThanOrEqual(100);
    expect(whole!.text.startsWith(cut!.text)).toBe(true);
    expect((await stepsOf(server, runId)).map((s) => [s.kind, s.state, s.attempt])).toEqual([
      ["model_call", "succeeded", 2],
    ]);
    const detail = await (await client.get(`/api/runs/${runId}`)).json();
    expect(detail.llmCalls).toHaveLength(1); // the cut call's row died with its process; the repeat's is recorded
  }, 240_000);

  it("an idempotent in-process tool that was running is run again, and its result is there once", async () => {
    let answer = false;
    let reached!: () => void;
    const fetching = new Promise<void>((resolve) => (reached = resolve));
    // The page hangs for process A; once it is gone, it answers.
    const site = http.createServer((_request, response) => {
      reached();
      if (answer) response.end("The page, at last.");
    });
    sites.push(site);
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    const a = await deployment();
    await a.allowFetching("127.0.0.1");
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/page`;
    const runId = await a.send(`/mock tool_calls\nweb_fetch {"url":"${url}"}`);
    await fetching;
    answer = true;
    const { server, client, events } = await a.takeOver();
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId, 60_000);

    expect((await stepsOf(server, runId)).map((s) => [s.kind, s.state, s.attempt])).toEqual([
      ["model_call", "succeeded", 1],
      ["tool_call", "succeeded", 2],
      ["model_call", "succeeded", 1],
    ]);
    const messages = await transcript(client, a.conversationId);
    const tools = messages.flatMap((m) => m.parts.filter((p) => p.type === "tool_call"));
    expect(tools.map((p) => [p.name, p.state])).toEqual([["web_fetch", "completed"]]);
    expect(messages.at(-1)!.text).toContain("The page, at last.");
  }, 240_000);

  it("a run waiting for approval keeps waiting across the restart, and goes on once approved", async () => {
    const a = await deployment();
    const runId = await a.send('/mock tool_calls\nmemory_store {"content":"The user\'s cat is called Miso"}');
    const waiting = await a.events.waitForKind("run_waiting", (e) => e.run_id === runId);
    const { server, events } = await a.takeOver();
    expect(server.services.runs.isRunningHere(runId)).toBe(false);
    expect((await stepsOf(server, runId)).map((s) => [s.kind, s.state])).toEqual([
      ["model_call", "succeeded"],
      ["tool_call", "waiting"],
      ["await_approval", "waiting"],
    ]);
    const key = (waiting.payload.step as { waitKey: string }).waitKey;
    expect(await resolveWait(server.services, key, { approved: true })).toEqual([runId]);
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId, 60_000);
    expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(1);
    expect(events.events.filter((e) => e.kind === "tool_result")).toHaveLength(1);
  }, 240_000);

  it("a run waiting on a child run keeps waiting across the restart, and goes on with the child's answer", async () => {
    const a = await deployment();
    const runId = await a.send('/mock tool_calls\nmemory_store {"content":"The user\'s cat is called Miso"}');
    await a.events.waitForKind("run_waiting", (e) => e.run_id === runId);
    const { server, events } = await a.takeOver();
    // A stand-in for a tool whose work is a child run (subagents come later): the wait becomes one on a child.
    const childRunId = uuidv7();
    await server.services.db
      .update(runSteps)
      .set({ kind: "await_run", waitKey: childRunKey(childRunId) })
      .where(and(eq(runSteps.runId, runId), eq(runSteps.kind, "await_approval")));
    await resumeAbandonedRuns(server.services, new Date(Date.now() + LEASE_MS + 1_000));
    expect(server.services.runs.isRunningHere(runId)).toBe(false);

    expect(await resolveWait(server.services, childRunKey(childRunId), { output: "The child answered 42." })).toEqual([
      runId,
    ]);
    await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === runId, 60_000);
    expect((await stepsOf(server, runId)).map((s) => [s.kind, s.state])).toEqual([
      ["model_call", "succeeded"],
      ["tool_call", "succeeded"],
      ["await_run", "succeeded"],
      ["model_call", "succeeded"],
    ]);
    expect(events.events.filter((e) => e.kind === "tool_result")).toHaveLength(1);
    expect(await server.services.db.select().from(agentMemoryEntries)).toHaveLength(0);
  }, 240_000);
});

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
