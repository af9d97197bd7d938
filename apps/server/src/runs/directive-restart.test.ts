import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { repoRoot } from "../config.js";
import { agentsAllowing } from "../testing/agents.js";
import { EventStreamReader } from "../testing/events.js";
import { OWNER } from "../testing/harness.js";
import { freePort } from "../testing/ports.js";

const nexusBin = path.join(repoRoot, "node_modules/.bin/cybros-nexus");
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

/** A real server process (tsx in the same process, so SIGKILL takes it all) on the given port. */
async function spawnServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "apps/server/src/main.ts")], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    lines.on("line", (line) => {
      if (line.includes("Cybros is serving")) resolve(JSON.parse(line).url);
    });
  });
  return { url, child };
}

async function signedIn(url: string, setup: boolean) {
  const headers = { "content-type": "application/json", origin: url };
  const response = setup
    ? await fetch(`${url}/api/setup`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...OWNER, passwordConfirmation: OWNER.password }),
      })
    : await fetch(`${url}/api/session`, { method: "POST", headers, body: JSON.stringify(OWNER) });
  expect(response.status).toBe(201);
  const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON they assert on
    api: async (method: string, route: string, body?: unknown): Promise<any> => {
      const answer = await fetch(`${url}${route}`, {
        method,
        headers: { ...headers, cookie },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return answer.json();
    },
    events: async (conversationId: string) =>
      new EventStreamReader(
        await fetch(`${url}/api/conversations/${conversationId}/events?cursor=0`, { headers: { cookie } }),
      ),
  };
}

// The same data folder (PGlite) and port after a kill -9; the Nexus on another machine never stopped.
it("a directive that runs while the server is killed and restarted finishes, and its run goes on with its result", async () => {
  const port = await freePort();
  const project = tempDir("cybros-restart-project-");
  const env = {
    PORT: String(port),
    CYBROS_DATA_DIR: tempDir("cybros-restart-data-"),
    CYBROS_AGENTS_DIR: agentsAllowing(["workspace_set", "bash"]),
    CYBROS_LOCAL_NEXUS: "off",
  };
  dirs.push(env.CYBROS_AGENTS_DIR);
  const first = await spawnServer(env);
  const firstSession = await signedIn(first.url, true);
  const api = firstSession.api;
  const { token } = await api("POST", "/api/territories/enrollment-tokens");
  const nexusDir = tempDir("cybros-restart-nexus-");
  await promisify(execFile)(nexusBin, [
    "enroll",
    ...["--server", first.url, "--token", token, "--name", "Remote", "--dir", nexusDir],
  ]);
  children.push(spawn(nexusBin, ["run", "--dir", nexusDir], { stdio: ["ignore", "inherit", "inherit"] }));

  const { agents } = await api("GET", "/api/agents");
  const agent = agents.find((a: { profileSource: string }) => a.profileSource === "bundled:default-assistant");
  const conversation = await api("POST", "/api/conversations", { agentProgramId: agent.id });
  const send = async (content: string) =>
    (await api("POST", `/api/conversations/${conversation.id}/messages`, { content })).run.id as string;
  const events = await firstSession.events(conversation.id);
  const set = await send(`/mock tool_calls\nworkspace_set ${JSON.stringify({ path: project, territory: "Remote" })}`);
  await events.waitFor((e) => e.kind === "run_succeeded" && e.run_id === set, 30_000);

  const marker = path.join(project, "ran.txt");
  const slow = await send(
    `/mock tool_calls\nbash ${JSON.stringify({ command: "sleep 2; echo finished-after-restart | tee ran.txt" })}`,
  );
  await events.waitFor((e) => e.kind === "run_waiting" && e.run_id === slow, 30_000);
  events.close();
  first.child.kill("SIGKILL");
  await new Promise((resolve) => first.child.once("exit", resolve));

  const second = await spawnServer(env);
  const after = await (await signedIn(second.url, false)).events(conversation.id);
  const result = await after.waitFor((e) => e.kind === "tool_result" && e.run_id === slow, 90_000);
  await after.waitFor((e) => e.kind === "run_succeeded" && e.run_id === slow, 30_000);
  after.close();
  expect(fs.readFileSync(marker, "utf8")).toBe("finished-after-restart\n");
  const part = (result.payload as { part: { state: string; result?: unknown } }).part;
  expect(part.state).toBe("completed");
  expect(String(part.result)).toContain("finished-after-restart");
}, 180_000);
