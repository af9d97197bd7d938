import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pollResponse } from "@cybros/protocol";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { repoRoot } from "../config.js";
import { directiveLogChunks, territories } from "../db/schema.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { cancelDirective, createDirective, createEnrollmentToken, createFacility, type DirectiveRow } from "./index.js";

const nexusBin = path.join(repoRoot, "node_modules/.bin/cybros-nexus");

/** The real `cybros-nexus` process, enrolled and running against a real server over HTTP. */
describe("cybros-nexus against a server", () => {
  let server: TestServer;
  let nexus: ChildProcess;
  let territoryId: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-nexus-e2e-"));
  const waiters = new Map<string, (directive: DirectiveRow) => void>();
  const finished = (id: string) => new Promise<DirectiveRow>((resolve) => waiters.set(id, resolve));

  beforeAll(async () => {
    server = await startTestServer();
    server.services.conduits.onDirectiveFinished((directive) => waiters.get(directive.id)?.(directive));
    const url = await server.url();
    const account = await defaultAccount(server.services.db);
    const { token } = await createEnrollmentToken(server.services.db, account.id);
    const enrolled = await promisify(execFile)(nexusBin, [
      "enroll",
      "--server",
      url,
      "--token",
      token,
      "--name",
      "e2e",
      "--dir",
      dir,
    ]);
    territoryId = /territory (\S+);/.exec(enrolled.stdout)![1]!;
    nexus = startNexus();
  });

  const startNexus = () =>
    spawn(nexusBin, ["run", "--dir", dir, "--slots", "2"], { stdio: ["ignore", "inherit", "inherit"] });
  const stopNexus = async () => {
    if (nexus.exitCode !== null) return;
    const exited = new Promise((resolve) => nexus.once("exit", resolve));
    nexus.kill("SIGTERM");
    await exited;
  };

  afterAll(async () => {
    if (nexus) await stopNexus();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs `true` and `echo` and reports their ends and output", async () => {
    const facility = await createFacility(server.services.db, { territoryId, kind: "empty" });
    const other = await createFacility(server.services.db, { territoryId, kind: "empty" });
    const quiet = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { argv: ["true"] } },
    });
    const quietEnd = finished(quiet.id);
    const loud = await createDirective(server.services, {
      facilityId: other.id,
      request: { command: { shell: "echo hello from nexus; echo warn >&2; exit 2" } },
    });
    const loudEnd = finished(loud.id);

    expect(await quietEnd).toMatchObject({ state: "succeeded", exitCode: 0 });
    expect(await loudEnd).toMatchObject({ state: "failed", exitCode: 2 });
    const chunks = await server.services.db
      .select()
      .from(directiveLogChunks)
      .where(eq(directiveLogChunks.directiveId, loud.id))
      .orderBy(asc(directiveLogChunks.stream), asc(directiveLogChunks.seq));
    const text = (stream: string) =>
      chunks
        .filter((chunk) => chunk.stream === stream)
        .map((chunk) => Buffer.from(chunk.bytes).toString())
        .join("");
    expect(text("stdout")).toBe("hello from nexus\n");
    expect(text("stderr")).toBe("warn\n");
    const [territory] = await server.services.db.select().from(territories).where(eq(territories.id, territoryId));
    expect(territory).toMatchObject({ status: "online", capacity: 2 });
    expect(territory!.drivers).toContain("host");
    expect(fs.existsSync(path.join(dir, "facilities", facility.id))).toBe(true);
  });

  it("stops a directive on cancel (SIGTERM to its group) and on timeout (124)", async () => {
    const facility = await createFacility(server.services.db, { territoryId, kind: "empty" });
    const other = await createFacility(server.services.db, { territoryId, kind: "empty" });
    const long = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { shell: "echo waiting; sleep 30" } },
    });
    const longEnd = finished(long.id);
    const slow = await createDirective(server.services, {
      facilityId: other.id,
      request: { command: { argv: ["sleep", "30"] }, timeout_seconds: 1 },
    });
    const slowEnd = finished(slow.id);
    await vi.waitFor(async () => {
      const [chunk] = await server.services.db
        .select()
        .from(directiveLogChunks)
        .where(eq(directiveLogChunks.directiveId, long.id));
      expect(chunk).toBeDefined();
    });
    await cancelDirective(server.services, long.id);
    expect(await longEnd).toMatchObject({ state: "canceled", exitCode: 143 });
    expect(await slowEnd).toMatchObject({ state: "timed_out", exitCode: 124 });
  });

  it("replays a finished report it could not send before a restart", async () => {
    await stopNexus();
    const facility = await createFacility(server.services.db, { territoryId, kind: "empty" });
    const directive = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { argv: ["true"] } },
    });
    const credential = JSON.parse(fs.readFileSync(path.join(dir, "nexus.json"), "utf8"));
    const polled = await fetch(new URL("/conduits/v1/polls", credential.server_url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${credential.territory_token}` },
      body: JSON.stringify({ wait_seconds: 0 }),
    });
    const [claimed] = pollResponse.parse(await polled.json()).directives;
    expect(claimed!.directive_id).toBe(directive.id);
    // What a Nexus that died while sending its report leaves behind.
    fs.mkdirSync(path.join(dir, "journal"), { recursive: true });
    const report = { status: "succeeded", exit_code: 0, result: { replayed: true } };
    fs.writeFileSync(path.join(dir, "journal", `${directive.id}.json`), JSON.stringify({ directive: claimed, report }));

    const end = finished(directive.id);
    nexus = startNexus();
    expect(await end).toMatchObject({ state: "succeeded", result: { replayed: true } });
    await vi.waitFor(() => expect(fs.readdirSync(path.join(dir, "journal"))).toEqual([]));
  });

  it("builds into one file that runs with node alone", async () => {
    const run = promisify(execFile);
    const { stdout: outfile } = await run(process.execPath, [path.join(repoRoot, "scripts/build-nexus.mjs")]);
    const doctor = await run(process.execPath, [outfile.trim(), "doctor", "--dir", dir]);
    expect(doctor.stdout).toContain(`ok   credential: territory ${territoryId}`);
  });
});
