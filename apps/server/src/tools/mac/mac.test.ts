import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAccount } from "../../accounts/index.js";
import { createEnrollmentToken } from "../../conduits/index.js";
import { repoRoot } from "../../config.js";
import type { TaskData } from "../../conversations/present.js";
import { agentPrograms, nodes, territories } from "../../db/schema.js";
import { EventStreamReader } from "../../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../../testing/harness.js";
import { darwinWorkspace } from "../../workspaces/index.js";

const nexusBin = path.join(repoRoot, "node_modules/.bin/cybros-nexus");
/** A 1×1 PNG: what the stub screencapture writes. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

/**
 * Stand-ins for the macOS commands, first on the Nexus's PATH: each logs its arguments (each argument ended by a US
 * character, each call by an RS) and answers as the real one would, as far as the tools read it.
 */
function writeStubs(dir: string, log: string): void {
  const record = `printf '%s\\037' "$(basename "$0")" "$@" >> '${log}'; printf '\\036' >> '${log}'`;
  const stubs: Record<string, string> = {
    osascript: [
      record,
      'if [ "$1" = "-l" ]; then printf "Calculator\\nNotes\\nSafari\\n"; exit 0; fi',
      'case "$2" in *fail*) echo "execution error: Not authorized to send Apple events to Mail. (-1743)" >&2; exit 1;; esac',
      'echo "osascript ran: $2"',
    ].join("\n"),
    screencapture: [
      record,
      'for last in "$@"; do :; done',
      `printf '%s' '${PNG.toString("base64")}' | base64 -d > "$last"`,
    ].join("\n"),
    shortcuts: [
      record,
      'name="$2"; shift 2; input=""; output=""',
      'while [ $# -gt 0 ]; do case "$1" in --input-path) input="$2"; shift 2;; --output-path) output="$2"; shift 2;; *) shift;; esac; done',
      'if [ -n "$input" ]; then printf "%s got: %s" "$name" "$(cat "$input")" > "$output"; else printf "%s ran" "$name" > "$output"; fi',
    ].join("\n"),
    open: record,
  };
  for (const [name, body] of Object.entries(stubs)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
}

describe("macOS tools on a Mac territory (a real cybros-nexus reporting darwin, stub commands)", () => {
  let server: TestServer;
  let client: TestClient;
  let nexus: ChildProcess | undefined;
  let territoryId: string;
  let agentId: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-mac-"));
  const nexusDir = path.join(dir, "nexus");
  const stubs = path.join(dir, "bin");
  const callLog = path.join(dir, "calls.log");
  const readers: EventStreamReader[] = [];

  beforeAll(async () => {
    ({ server, client } = await startSignedIn());
    // The built-in mock provider is reached over HTTP.
    await server.url();
    const [agent] = await server.services.db
      .select()
      .from(agentPrograms)
      .where(eq(agentPrograms.profileSource, "bundled:mac-assistant"));
    agentId = agent!.id;
    fs.mkdirSync(stubs);
    writeStubs(stubs, callLog);
  });

  afterAll(async () => {
    for (const reader of readers) reader.close();
    if (nexus && nexus.exitCode === null) {
      const exited = new Promise((resolve) => nexus!.once("exit", resolve));
      nexus.kill("SIGTERM");
      await exited;
    }
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const enrollMac = async () => {
    const url = await server.url();
    const account = await defaultAccount(server.services.db);
    const { token } = await createEnrollmentToken(server.services.db, account.id);
    const enrolled = await promisify(execFile)(
      nexusBin,
      ["enroll", "--server", url, "--token", token, "--name", "Studio", "--dir", nexusDir],
      { env: { ...process.env, CYBROS_NEXUS_PLATFORM: "darwin-arm64" } },
    );
    territoryId = /territory (\S+);/.exec(enrolled.stdout)![1]!;
    nexus = spawn(nexusBin, ["run", "--dir", nexusDir], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, CYBROS_NEXUS_PLATFORM: "darwin-arm64", PATH: `${stubs}:${process.env.PATH}` },
    });
    await vi.waitFor(
      async () => {
        const [territory] = await server.services.db.select().from(territories).where(eq(territories.id, territoryId));
        expect(territory).toMatchObject({ platform: "darwin-arm64", status: "online" });
      },
      { timeout: 20_000, interval: 100 },
    );
  };

  /** Sends a message to a new mac-assistant conversation and answers its tool calls' task data once the run ends. */
  const converse = async (content: string): Promise<TaskData[]> => {
    const conversation = await (await client.post("/api/conversations", { agentProgramId: agentId })).json();
    const events = await EventStreamReader.open(client, conversation.id, 0);
    readers.push(events);
    const sent = await client.post(`/api/conversations/${conversation.id}/messages`, { content });
    expect(sent.status).toBe(202);
    const runId = (await sent.json()).run.id;
    const ends = ["run_succeeded", "run_failed", "run_canceled"];
    const ended = await events.waitFor((e) => ends.includes(e.kind) && e.run_id === runId, 60_000);
    expect(ended.kind).toBe("run_succeeded");
    const tasks = await server.services.db
      .select()
      .from(nodes)
      .where(and(eq(nodes.runId, runId), eq(nodes.kind, "task")))
      .orderBy(asc(nodes.createdAt), asc(nodes.id));
    return tasks.map((task) => task.data as unknown as TaskData);
  };

  const calls = () =>
    fs.existsSync(callLog)
      ? fs
          .readFileSync(callLog, "utf8")
          .split("\x1e")
          .filter(Boolean)
          .map((call) => call.split("\x1f").slice(0, -1))
      : [];

  it("says plainly that no Mac is connected, then names the Mac that is offline", async () => {
    const [none] = await converse("/mock tool_calls\ntake_screenshot {}");
    expect(none).toMatchObject({ name: "take_screenshot", isError: true });
    expect(none!.output).toMatch(/^No Mac is connected\. .*System settings → Territories/);

    const account = await defaultAccount(server.services.db);
    const [linux] = await server.services.db
      .insert(territories)
      .values({
        id: "0190a0a0-0000-7000-8000-0000000000aa",
        accountId: account.id,
        name: "Builder",
        platform: "linux-x64",
        status: "online",
        tokenHash: "not-a-real-hash-aa",
        heartbeatIntervalSeconds: 30,
      })
      .returning();
    await server.services.db.insert(territories).values({
      ...linux!,
      id: "0190a0a0-0000-7000-8000-0000000000ab",
      name: "Old iMac",
      platform: "darwin-x64",
      status: "offline",
      tokenHash: "not-a-real-hash-ab",
    });
    const missing = await darwinWorkspace(server.services, account.id);
    expect(missing).toEqual({ missing: expect.stringMatching(/^No Mac is connected: "Old iMac" is offline\./) });
    expect(calls()).toEqual([]);
  });

  it("runs each tool as a directive on the Mac, and the screenshot comes back as an artifact", {
    timeout: 120_000,
  }, async () => {
    await enrollMac();
    const account = await defaultAccount(server.services.db);
    const workspace = await darwinWorkspace(server.services, account.id);
    expect(workspace).toMatchObject({ kind: "empty", territory: { id: territoryId, name: "Studio" } });
    // One scratch folder per Mac, reused by every call.
    expect(await darwinWorkspace(server.services, account.id)).toEqual(workspace);
    const facilityId = (workspace as { facilityId: string }).facilityId;

    const tasks = await converse(
      [
        "/mock tool_calls",
        'open_url {"url": "https://example.com/a page?q=1"}',
        'open_url {"url": "file:///etc/passwd"}',
        'run_applescript {"script": "tell application \\"Finder\\" to get name of front window"}',
        'run_applescript {"script": "tell application \\"Mail\\" to fail"}',
        "take_screenshot {}",
        'run_shortcut {"name": "Morning Brief", "input": "it\'s Monday"}',
        "list_apps {}",
      ].join("\n"),
    );
    expect(tasks.map((task) => [task.name, Boolean(task.isError)])).toEqual([
      ["open_url", false],
      ["open_url", true],
      ["run_applescript", false],
      ["run_applescript", true],
      ["take_screenshot", false],
      ["run_shortcut", false],
      ["list_apps", false],
    ]);
    const [opened, refused, script, denied, screenshot, shortcut, apps] = tasks;
    expect(opened!.output).toBe("Opened https://example.com/a%20page?q=1 on the Mac.");
    expect(opened!.directive).toEqual({ id: expect.any(String), territory: "Studio" });
    expect(refused!.output).toContain("url: must be an http, https or mailto link");
    expect(script!.output).toBe('osascript ran: tell application "Finder" to get name of front window');
    expect(denied!.output).toMatch(/^The AppleScript failed: exit code 1\.\nexecution error: Not authorized.*-1743/);
    expect(shortcut!.output).toBe("Morning Brief got: it's Monday");
    expect(apps!.output).toBe("3 applications on the Mac:\nCalculator\nNotes\nSafari");

    // What ran on the Mac, word for word.
    const ran = calls();
    expect(ran.map((call) => call[0])).toEqual([
      "open",
      "osascript",
      "osascript",
      "screencapture",
      "shortcuts",
      "osascript",
    ]);
    expect(ran[0]).toEqual(["open", "https://example.com/a%20page?q=1"]);
    expect(ran[1]).toEqual(["osascript", "-e", 'tell application "Finder" to get name of front window']);
    const facilityRoot = fs.realpathSync(path.join(nexusDir, "facilities", facilityId));
    expect(ran[3]).toEqual([
      "screencapture",
      "-x",
      path.join(facilityRoot, ".cybros/artifacts", screenshot!.directive!.id, "screenshot.png"),
    ]);
    expect(ran[4]!.slice(0, 3)).toEqual(["shortcuts", "run", "Morning Brief"]);
    expect(ran[4]).toContain("--input-path");
    expect(ran[4]!.slice(-2)).toEqual(["--output-type", "public.plain-text"]);
    expect(ran[5]!.slice(0, 3)).toEqual(["osascript", "-l", "JavaScript"]);
    // The artifacts folder is gone once uploaded.
    expect(fs.existsSync(path.join(facilityRoot, ".cybros"))).toBe(false);

    const artifacts = screenshot!.metadata!.artifacts as { id: string; name: string; contentType: string }[];
    expect(artifacts).toEqual([{ id: expect.any(String), name: "screenshot.png", contentType: "image/png" }]);
    expect(screenshot!.output).toContain(`artifact ${artifacts[0]!.id}`);
    const image = await client.get(`/api/artifacts/${artifacts[0]!.id}`);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(image.headers.get("x-content-type-options")).toBe("nosniff");
    expect(image.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it("gives the screenshot to the model when it accepts images, and says it cannot see it otherwise", {
    timeout: 120_000,
  }, async () => {
    // The Mac the test before enrolled; the seeded mock provider lists mock-model as accepting images.
    const mock = server.services.mockLlm!;
    /** The request that carried the screenshot's tool result back to the model. */
    const followUp = async () => {
      mock.clearRequests();
      const [task] = await converse("/mock tool_calls\ntake_screenshot {}");
      expect(task).toMatchObject({ name: "take_screenshot", isError: false });
      const request = mock.requests().find((r) => r.messages.some((m) => m.role === "tool"));
      const at = request!.messages.findIndex((m) => m.role === "tool");
      return { tool: request!.messages[at]!, after: request!.messages.slice(at + 1) };
    };

    const seen = await followUp();
    expect(seen.tool.content).toMatch(/^Took a screenshot of the main display \(screenshot\.png, \d+ bytes, artifact /);
    expect(seen.tool.content).not.toContain("cannot see");
    expect(seen.after).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Screenshot from take_screenshot (screenshot.png):" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG.toString("base64")}` } },
        ],
      },
    ]);

    const { providers } = await (await client.get("/api/providers")).json();
    const provider = providers.find((p: { name: string }) => p.name === "Mock LLM");
    expect(provider.imageModels).toEqual(["mock-model"]);
    const patched = await client.patch(`/api/providers/${provider.id}`, { imageModels: [] });
    expect(patched.status).toBe(200);

    const blind = await followUp();
    expect(blind.tool.content).toContain("This model does not take images: you cannot see it");
    expect(blind.after).toEqual([]);
  });
});
