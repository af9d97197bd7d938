import {
  type ClaimedDirective,
  DIRECTIVE_TOKEN_HEADER,
  type DirectiveRequest,
  directiveFinishedResponse,
  directiveHeartbeatResponse,
  directiveStartedResponse,
  enrollmentTokenCreated,
  enrollResponse,
  logChunkResponse,
  pollResponse,
  territoryHeartbeatResponse,
  territorySummary,
} from "@cybros/protocol";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defaultAccount } from "../accounts/index.js";
import { directiveLogChunks, directives, enrollmentTokens, territories } from "../db/schema.js";
import {
  describeOnPostgres,
  startSignedIn,
  startTestServer,
  type TestClient,
  type TestServer,
} from "../testing/harness.js";
import {
  cancelDirective,
  createDirective,
  createEnrollmentToken,
  createFacility,
  type DirectiveRow,
  reapConduits,
  revokeTerritory,
} from "./index.js";

/** A Nexus as the server sees it: real HTTP to /conduits/v1, each answer parsed with the protocol's schema. */
class NexusHttp {
  constructor(
    readonly baseUrl: string,
    readonly territoryId: string,
    readonly token: string,
  ) {}

  static async enroll(server: TestServer, name = "laptop"): Promise<NexusHttp> {
    const account = await defaultAccount(server.services.db);
    const { token } = await createEnrollmentToken(server.services.db, account.id);
    const baseUrl = await server.url();
    const response = await post(baseUrl, "/conduits/v1/territories/enroll", {
      enroll_token: token,
      name,
      platform: "linux-x64",
    });
    expect(response.status).toBe(201);
    const enrolled = enrollResponse.parse(await response.json());
    return new NexusHttp(baseUrl, enrolled.territory_id, enrolled.territory_token);
  }

  call(path: string, body: unknown, headers: Record<string, string> = {}) {
    return post(this.baseUrl, `/conduits/v1${path}`, body, { authorization: `Bearer ${this.token}`, ...headers });
  }

  async poll(body: Record<string, unknown> = {}): Promise<ClaimedDirective[]> {
    const response = await this.call("/polls", { wait_seconds: 0, ...body });
    expect(response.status).toBe(200);
    return pollResponse.parse(await response.json()).directives;
  }

  report(claimed: ClaimedDirective, verb: string, body: unknown = {}, token = claimed.directive_token) {
    return this.call(`/directives/${claimed.directive_id}/${verb}`, body, { [DIRECTIVE_TOKEN_HEADER]: token });
  }
}

function post(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; fields?: Record<string, string> }> {
  const body = (await response.json()) as { error: { code: string; message: string; fields?: Record<string, string> } };
  expect(body.error.message).toEqual(expect.any(String));
  return { status: response.status, code: body.error.code, fields: body.error.fields };
}

const base64 = (text: string) => Buffer.from(text).toString("base64");
const succeeded = { status: "succeeded", exit_code: 0, result: { answer: 42 } };

describe("Conduits API, driven as a Nexus drives it", () => {
  let server: TestServer;
  const finished: DirectiveRow[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    server.services.conduits.onDirectiveFinished((directive) => void finished.push(directive));
  });
  afterAll(async () => {
    await server?.close();
  });

  const db = () => server.services.db;
  const enqueue = async (facilityId: string, request: Partial<DirectiveRequest> = {}) =>
    createDirective(server.services, { facilityId, request: { command: { argv: ["true"] }, ...request } });
  const directiveRow = async (id: string) => (await db().select().from(directives).where(eq(directives.id, id)))[0]!;
  const nexusWithFacility = async (name?: string) => {
    const nexus = await NexusHttp.enroll(server, name);
    const facility = await createFacility(db(), { territoryId: nexus.territoryId, kind: "empty" });
    return { nexus, facility };
  };

  describe("enrollment", () => {
    it("enrolls once per token and refuses unknown, used and expired tokens", async () => {
      const account = await defaultAccount(db());
      const baseUrl = await server.url();
      const { token } = await createEnrollmentToken(db(), account.id);
      const body = { enroll_token: token, name: "box", platform: "linux-x64", labels: { gpu: "none" }, capacity: 2 };
      const first = await post(baseUrl, "/conduits/v1/territories/enroll", body);
      expect(first.status).toBe(201);
      const enrolled = enrollResponse.parse(await first.json());
      expect(enrolled.config.lease_seconds).toBeGreaterThan(0);
      const [territory] = await db().select().from(territories).where(eq(territories.id, enrolled.territory_id));
      expect(territory).toMatchObject({ status: "pending", capacity: 2, labels: { gpu: "none" } });
      expect(territory!.tokenHash).not.toContain(enrolled.territory_token);

      const again = await errorOf(await post(baseUrl, "/conduits/v1/territories/enroll", body));
      expect(again).toMatchObject({ status: 422, fields: { enroll_token: "is unknown, already used or expired" } });

      const unknown = { ...body, enroll_token: "cye_nothing" };
      expect((await post(baseUrl, "/conduits/v1/territories/enroll", unknown)).status).toBe(422);

      const expired = await createEnrollmentToken(db(), account.id);
      await db()
        .update(enrollmentTokens)
        .set({ expiresAt: sql`now() - interval '1 second'` })
        .where(eq(enrollmentTokens.id, expired.id));
      const late = await post(baseUrl, "/conduits/v1/territories/enroll", { ...body, enroll_token: expired.token });
      expect(late.status).toBe(422);

      const missing = await errorOf(await post(baseUrl, "/conduits/v1/territories/enroll", { platform: "x" }));
      expect(missing.fields).toMatchObject({ enroll_token: expect.any(String), name: expect.any(String) });
    });
  });

  describe("territories", () => {
    it("heartbeats bring a territory online; silence of three intervals takes it offline", async () => {
      const nexus = await NexusHttp.enroll(server);
      const response = await nexus.call("/territories/heartbeat", {
        capacity: 2,
        running: 0,
        drivers: ["host"],
        nexus_version: "0.1.0",
      });
      expect(response.status).toBe(200);
      expect(territoryHeartbeatResponse.parse(await response.json()).next_heartbeat_seconds).toBe(30);
      const online = (await db().select().from(territories).where(eq(territories.id, nexus.territoryId)))[0]!;
      expect(online).toMatchObject({ status: "online", drivers: ["host"], nexusVersion: "0.1.0", capacity: 2 });

      await db().execute(
        sql`UPDATE territories SET last_seen_at = now() - interval '89 seconds' WHERE id = ${nexus.territoryId}`,
      );
      await reapConduits(server.services);
      expect((await db().select().from(territories).where(eq(territories.id, nexus.territoryId)))[0]!.status).toBe(
        "online",
      );
      await db().execute(
        sql`UPDATE territories SET last_seen_at = now() - interval '91 seconds' WHERE id = ${nexus.territoryId}`,
      );
      await reapConduits(server.services);
      expect((await db().select().from(territories).where(eq(territories.id, nexus.territoryId)))[0]!.status).toBe(
        "offline",
      );
    });

    it("refuses calls without a valid territory token, and every call of a revoked territory", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const baseUrl = nexus.baseUrl;
      expect(await errorOf(await post(baseUrl, "/conduits/v1/polls", {}))).toMatchObject({
        status: 401,
        code: "territory_token_required",
      });
      const forged = await post(baseUrl, "/conduits/v1/polls", {}, { authorization: "Bearer cyt_forged" });
      expect(await errorOf(forged)).toMatchObject({ status: 401, code: "territory_token_invalid" });

      await enqueue(facility.id);
      const [claimed] = await nexus.poll();
      const waiting = await enqueue((await createFacility(db(), { territoryId: nexus.territoryId, kind: "empty" })).id);
      await revokeTerritory(server.services, nexus.territoryId);
      // Nothing else may run them: what had not started ends with the territory.
      for (const id of [claimed!.directive_id, waiting.id]) {
        expect(await directiveRow(id)).toMatchObject({ state: "canceled", endReason: "territory_revoked" });
        expect(finished.find((row) => row.id === id)?.state).toBe("canceled");
      }
      const heartbeat = { capacity: 1, running: 0, drivers: [], nexus_version: "0.1.0" };
      for (const response of [
        await nexus.call("/territories/heartbeat", heartbeat),
        await nexus.call("/polls", {}),
        await nexus.report(claimed!, "started"),
        await nexus.report(claimed!, "heartbeat"),
        await nexus.report(claimed!, "log_chunks", { stream: "stdout", seq: 0, bytes: base64("x") }),
        await nexus.report(claimed!, "finished", succeeded),
      ]) {
        expect(await errorOf(response)).toMatchObject({ status: 403, code: "territory_revoked" });
      }
    });
  });

  describe("a directive's life", () => {
    it("goes claimed → started → output → finished, tells the waiter once, and repeats are duplicates", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id, { command: { shell: "echo hi" }, cwd: "src" });
      const [claimed, ...rest] = await nexus.poll({ max_directives: 4 });
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        directive_id: directive.id,
        spec: {
          directive_id: directive.id,
          command: { shell: "echo hi" },
          cwd: "src",
          driver: "host",
          facility: { id: facility.id, kind: "empty", root: null },
        },
      });
      expect(claimed!.directive_token.startsWith(`${directive.id}.`)).toBe(true);
      expect((await directiveRow(directive.id)).state).toBe("leased");

      const chunkTooEarly = await nexus.report(claimed!, "log_chunks", {
        stream: "stdout",
        seq: 0,
        bytes: base64("x"),
      });
      expect(await errorOf(chunkTooEarly)).toMatchObject({ status: 409, code: "invalid_state" });

      const started = directiveStartedResponse.parse(await (await nexus.report(claimed!, "started")).json());
      expect(started).toEqual({ directive_id: directive.id, state: "running", duplicate: false });
      const startedAgain = directiveStartedResponse.parse(await (await nexus.report(claimed!, "started")).json());
      expect(startedAgain.duplicate).toBe(true);

      const beat = directiveHeartbeatResponse.parse(await (await nexus.report(claimed!, "heartbeat")).json());
      expect(beat.cancel_requested).toBe(false);

      const chunk = { stream: "stdout", seq: 0, bytes: base64("hi\n") };
      const stored = logChunkResponse.parse(await (await nexus.report(claimed!, "log_chunks", chunk)).json());
      expect(stored).toMatchObject({ duplicate: false, accepted_bytes: 3, truncated: false });
      const repeated = logChunkResponse.parse(await (await nexus.report(claimed!, "log_chunks", chunk)).json());
      expect(repeated).toMatchObject({ duplicate: true, accepted_bytes: 3 });

      expect(finished.filter((row) => row.id === directive.id)).toEqual([]);
      const done = await nexus.report(claimed!, "finished", { ...succeeded, diff_base64: base64("diff --git") });
      expect(directiveFinishedResponse.parse(await done.json())).toEqual({
        directive_id: directive.id,
        state: "succeeded",
        duplicate: false,
      });
      // The same report with its keys in another order hashes the same.
      const replay = await nexus.report(claimed!, "finished", {
        diff_base64: base64("diff --git"),
        result: { answer: 42 },
        exit_code: 0,
        status: "succeeded",
      });
      expect(directiveFinishedResponse.parse(await replay.json()).duplicate).toBe(true);
      const different = await nexus.report(claimed!, "finished", { ...succeeded, exit_code: 1 });
      expect(await errorOf(different)).toMatchObject({ status: 409, code: "result_conflict" });

      const late = await nexus.report(claimed!, "log_chunks", { stream: "stderr", seq: 0, bytes: base64("bye") });
      expect(late.status).toBe(200);
      const row = await directiveRow(directive.id);
      expect(row).toMatchObject({ state: "succeeded", exitCode: 0, result: { answer: 42 }, diff: "diff --git" });
      expect(row.outputBytes).toBe(6);
      const heartbeatAfterEnd = await nexus.report(claimed!, "heartbeat");
      expect(await errorOf(heartbeatAfterEnd)).toMatchObject({ status: 409, code: "directive_ended" });

      const told = finished.filter((entry) => entry.id === directive.id);
      expect(told.map((entry) => entry.state)).toEqual(["succeeded"]);
      expect(told[0]!.exitCode).toBe(0);
    });

    it("finishing a leased directive implies its start", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id);
      const [claimed] = await nexus.poll();
      const report = { status: "failed", exit_code: 1, result: null };
      expect((await nexus.report(claimed!, "finished", report)).status).toBe(200);
      const row = await directiveRow(directive.id);
      expect(row.state).toBe("failed");
      expect(row.startedAt).not.toBeNull();
    });

    it("checks the directive token: its subject must be the URL's directive, of this territory, of this lease", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const other = await nexusWithFacility("other");
      await db().update(territories).set({ capacity: 2 }).where(eq(territories.id, nexus.territoryId));
      await enqueue(facility.id);
      await enqueue((await createFacility(db(), { territoryId: nexus.territoryId, kind: "empty" })).id);
      const [first, second] = await nexus.poll({ max_directives: 2 });
      expect(second).toBeDefined();

      const crossed = await nexus.report(second!, "started", {}, first!.directive_token);
      expect(await errorOf(crossed)).toMatchObject({ status: 403, code: "directive_token_mismatch" });
      const missing = await nexus.call(`/directives/${first!.directive_id}/started`, {});
      expect(await errorOf(missing)).toMatchObject({ status: 401, code: "directive_token_required" });
      const guessed = await nexus.report(first!, "started", {}, `${first!.directive_id}.cyd_guess`);
      expect(await errorOf(guessed)).toMatchObject({ status: 401, code: "directive_token_invalid" });
      const foreign = await other.nexus.report(first!, "started");
      expect(await errorOf(foreign)).toMatchObject({ status: 403, code: "directive_not_yours" });
      const unknownId = "01900000-0000-7000-8000-000000000000";
      const nowhere = await nexus.report({ ...first!, directive_id: unknownId }, "started", {}, `${unknownId}.x`);
      expect(await errorOf(nowhere)).toMatchObject({ status: 404, code: "not_found" });
    });

    it("refuses a spec whose cwd leaves the facility", async () => {
      const { facility } = await nexusWithFacility();
      await expect(enqueue(facility.id, { cwd: "../elsewhere" })).rejects.toMatchObject({
        fields: { cwd: "must stay inside the facility" },
      });
      await expect(enqueue(facility.id, { cwd: "/etc" })).rejects.toMatchObject({
        fields: { cwd: "must be relative to the facility" },
      });
    });
  });

  describe("claims", () => {
    it("hands a territory only its own facilities' directives, for the drivers it supports", async () => {
      const mine = await nexusWithFacility("mine");
      const theirs = await nexusWithFacility("theirs");
      const theirDirective = await enqueue(theirs.facility.id);
      const sandboxed = await enqueue(mine.facility.id, { driver: "bwrap" });
      expect(await mine.nexus.poll({ supported_drivers: ["host"] })).toEqual([]);
      const [claimed] = await mine.nexus.poll({ supported_drivers: ["host", "bwrap"] });
      expect(claimed!.directive_id).toBe(sandboxed.id);
      const [theirClaim] = await theirs.nexus.poll();
      expect(theirClaim!.directive_id).toBe(theirDirective.id);
    });

    it("runs one directive at a time per facility; its end makes the next one claimable", async () => {
      const { nexus, facility } = await nexusWithFacility();
      await db().update(territories).set({ capacity: 4 }).where(eq(territories.id, nexus.territoryId));
      const first = await enqueue(facility.id);
      const second = await enqueue(facility.id);
      const claimed = await nexus.poll({ max_directives: 4 });
      expect(claimed.map((c) => c.directive_id)).toEqual([first.id]);
      expect(await nexus.poll({ max_directives: 4 })).toEqual([]);
      await nexus.report(claimed[0]!, "finished", succeeded);
      const next = await nexus.poll({ max_directives: 4 });
      expect(next.map((c) => c.directive_id)).toEqual([second.id]);
    });

    it("never hands the same directive to two pollers", async () => {
      const { nexus } = await nexusWithFacility();
      const twin = new NexusHttp(nexus.baseUrl, nexus.territoryId, nexus.token);
      await db().update(territories).set({ capacity: 16 }).where(eq(territories.id, nexus.territoryId));
      const created: string[] = [];
      for (let i = 0; i < 10; i++) {
        const facility = await createFacility(db(), { territoryId: nexus.territoryId, kind: "empty" });
        created.push((await enqueue(facility.id)).id);
      }
      const polls = await Promise.all([nexus, twin, nexus, twin].map((poller) => poller.poll({ max_directives: 4 })));
      const ids = polls.flat().map((c) => c.directive_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(created.sort());
    });

    it("keeps to the territory's capacity", async () => {
      const { nexus, facility } = await nexusWithFacility();
      await enqueue(facility.id);
      await enqueue((await createFacility(db(), { territoryId: nexus.territoryId, kind: "empty" })).id);
      expect(await nexus.poll({ max_directives: 4 })).toHaveLength(1);
      const full = await nexus.call("/polls", { wait_seconds: 0 });
      expect(pollResponse.parse(await full.json())).toMatchObject({ directives: [], retry_after_seconds: 1 });
    });

    it("holds a poll until a directive becomes claimable, then answers with it", { timeout: 15_000 }, async () => {
      const { nexus, facility } = await nexusWithFacility();
      const held = nexus.call("/polls", { wait_seconds: 25 });
      await vi.waitFor(() => expect(server.services.conduits.heldPolls(nexus.territoryId)).toBe(1));
      const directive = await enqueue(facility.id);
      const answered = pollResponse.parse(await (await held).json());
      expect(answered.directives.map((c) => c.directive_id)).toEqual([directive.id]);
      expect(server.services.conduits.heldPolls(nexus.territoryId)).toBe(0);
    });
  });

  describe("leases, cancel and reapers", () => {
    it("requeues a lease that lapsed before start; the old token no longer works", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id);
      const [lapsed] = await nexus.poll();
      await db().execute(
        sql`UPDATE directives SET lease_expires_at = now() - interval '1 second' WHERE id = ${directive.id}`,
      );
      expect((await reapConduits(server.services)).requeued).toBe(1);
      expect((await directiveRow(directive.id)).state).toBe("queued");
      expect(await errorOf(await nexus.report(lapsed!, "started"))).toMatchObject({
        status: 401,
        code: "directive_token_invalid",
      });
      const [again] = await nexus.poll();
      expect(again!.directive_id).toBe(directive.id);
      expect((await nexus.report(again!, "started")).status).toBe(200);
    });

    it("times out a running directive whose Nexus went silent, and frees its facility", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id);
      const waiting = await enqueue(facility.id);
      const [claimed] = await nexus.poll();
      await nexus.report(claimed!, "started");
      await db().execute(
        sql`UPDATE directives SET lease_expires_at = now() - interval '1 second' WHERE id = ${directive.id}`,
      );
      expect((await reapConduits(server.services)).timedOut).toBe(1);
      expect(await directiveRow(directive.id)).toMatchObject({ state: "timed_out", endReason: "lease_lapsed" });
      expect(finished.find((row) => row.id === directive.id)?.state).toBe("timed_out");
      const late = await nexus.report(claimed!, "finished", succeeded);
      expect(await errorOf(late)).toMatchObject({ status: 409, code: "result_conflict" });
      const [next] = await nexus.poll();
      expect(next!.directive_id).toBe(waiting.id);
    });

    it("times out a running directive past its timeout and grace even while it heartbeats", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id, { timeout_seconds: 5 });
      const [claimed] = await nexus.poll();
      await nexus.report(claimed!, "started");
      await db().execute(
        sql`UPDATE directives SET started_at = now() - interval '34 seconds' WHERE id = ${directive.id}`,
      );
      expect((await reapConduits(server.services)).timedOut).toBe(0);
      await db().execute(
        sql`UPDATE directives SET started_at = now() - interval '36 seconds' WHERE id = ${directive.id}`,
      );
      expect((await reapConduits(server.services)).timedOut).toBe(1);
      expect(await directiveRow(directive.id)).toMatchObject({ state: "timed_out", endReason: "timeout" });
    });

    it("cancels a queued directive at once and asks a running one to stop through its heartbeat", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const queued = await enqueue(facility.id);
      expect((await cancelDirective(server.services, queued.id)).state).toBe("canceled");
      expect(finished.find((row) => row.id === queued.id)?.state).toBe("canceled");
      await expect(cancelDirective(server.services, queued.id)).rejects.toMatchObject({ status: 409 });
      expect(await nexus.poll()).toEqual([]);

      const running = await enqueue(facility.id);
      const [claimed] = await nexus.poll();
      await nexus.report(claimed!, "started");
      expect((await cancelDirective(server.services, running.id)).state).toBe("running");
      const beat = directiveHeartbeatResponse.parse(await (await nexus.report(claimed!, "heartbeat")).json());
      expect(beat.cancel_requested).toBe(true);
      const report = { status: "canceled", exit_code: 143, result: null };
      expect((await nexus.report(claimed!, "finished", report)).status).toBe(200);
      expect((await directiveRow(running.id)).state).toBe("canceled");

      // A cancel asked while only leased, by a Nexus that then went silent: the lapsed lease ends it.
      const leased = await enqueue(facility.id);
      await nexus.poll();
      await cancelDirective(server.services, leased.id);
      await db().execute(
        sql`UPDATE directives SET lease_expires_at = now() - interval '1 second' WHERE id = ${leased.id}`,
      );
      expect((await reapConduits(server.services)).requeued).toBe(0);
      expect(await directiveRow(leased.id)).toMatchObject({ state: "canceled", endReason: "canceled_before_start" });
    });
  });

  describe("caps and bad input", () => {
    it("caps stdout and stderr together: the crossing chunk is cut and flagged, later ones kept empty", async () => {
      const { nexus, facility } = await nexusWithFacility();
      const directive = await enqueue(facility.id, { output_cap_bytes: 10 });
      const [claimed] = await nexus.poll();
      await nexus.report(claimed!, "started");
      const send = async (stream: string, seq: number, text: string) =>
        logChunkResponse.parse(
          await (await nexus.report(claimed!, "log_chunks", { stream, seq, bytes: base64(text) })).json(),
        );
      expect(await send("stdout", 0, "123456")).toMatchObject({ accepted_bytes: 6, truncated: false });
      expect(await send("stderr", 0, "abcdef")).toMatchObject({ accepted_bytes: 4, truncated: true });
      expect(await send("stdout", 1, "789")).toMatchObject({ accepted_bytes: 0, truncated: true });
      expect(await send("stderr", 0, "abcdef")).toMatchObject({ duplicate: true, accepted_bytes: 4, truncated: true });
      const row = await directiveRow(directive.id);
      expect(row).toMatchObject({ outputBytes: 10, stdoutTruncated: true, stderrTruncated: true });
      const chunks = await db()
        .select()
        .from(directiveLogChunks)
        .where(eq(directiveLogChunks.directiveId, directive.id));
      expect(chunks.map((chunk) => Buffer.from(chunk.bytes).toString()).sort()).toEqual(["", "123456", "abcd"]);
    });

    it("answers bad input with field errors and oversized bodies with 413", async () => {
      const { nexus, facility } = await nexusWithFacility();
      await enqueue(facility.id);
      const [claimed] = await nexus.poll();
      await nexus.report(claimed!, "started");
      const notBase64 = await nexus.report(claimed!, "log_chunks", { stream: "stdout", seq: 0, bytes: "***" });
      expect(await errorOf(notBase64)).toMatchObject({ status: 422, fields: { bytes: "must be standard base64" } });
      const big = Buffer.alloc(256 * 1024 + 1).toString("base64");
      const oversized = await nexus.report(claimed!, "log_chunks", { stream: "stdout", seq: 1, bytes: big });
      expect(await errorOf(oversized)).toMatchObject({
        status: 422,
        fields: { bytes: expect.stringMatching(/at most/) },
      });
      const hugeDiff = Buffer.alloc(1024 * 1024 + 1).toString("base64");
      const diff = await nexus.report(claimed!, "finished", { ...succeeded, diff_base64: hugeDiff });
      expect(await errorOf(diff)).toMatchObject({ status: 422, fields: { diff_base64: expect.any(String) } });
      const badStatus = await nexus.report(claimed!, "finished", { ...succeeded, status: "done" });
      expect(await errorOf(badStatus)).toMatchObject({ status: 422, fields: { status: expect.any(String) } });
      const notJson = await nexus.report(claimed!, "finished", "{");
      expect(await errorOf(notJson)).toMatchObject({ status: 400, code: "invalid_json" });
      // In-process: a socket answered 413 before its body was read is closed under the next request on it.
      const tooLarge = await server.app.request(`/conduits/v1/directives/${claimed!.directive_id}/log_chunks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${nexus.token}` },
        body: JSON.stringify({ bytes: "A".repeat(3 * 1024 * 1024) }),
      });
      expect(await errorOf(tooLarge)).toMatchObject({ status: 413, code: "payload_too_large" });
      expect((await nexus.call("/nowhere", {})).status).toBe(404);
    });

    it("limits enrollment attempts with 429 and Retry-After", async () => {
      const baseUrl = await server.url();
      let limited: Response | undefined;
      for (let attempt = 0; attempt < 12 && !limited; attempt++) {
        const response = await post(baseUrl, "/conduits/v1/territories/enroll", {
          enroll_token: "cye_wrong",
          name: "x",
          platform: "x",
        });
        if (response.status === 429) limited = response;
      }
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await errorOf(limited!)).code).toBe("rate_limited");
    });
  });
});

describeOnPostgres("Conduits across two server processes on one PostgreSQL database", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
  });

  it("wakes a poll held by one process when another creates the directive", { timeout: 15_000 }, async () => {
    const a = await startTestServer();
    servers.push(a);
    const b = await startTestServer({ databaseUrl: a.config.databaseUrl });
    servers.push(b);
    const nexus = await NexusHttp.enroll(a);
    const facility = await createFacility(a.services.db, { territoryId: nexus.territoryId, kind: "empty" });
    const held = nexus.call("/polls", { wait_seconds: 25 });
    await vi.waitFor(() => expect(a.services.conduits.heldPolls(nexus.territoryId)).toBe(1));
    const directive = await createDirective(b.services, {
      facilityId: facility.id,
      request: { command: { argv: ["true"] } },
    });
    const answered = pollResponse.parse(await (await held).json());
    expect(answered.directives.map((c) => c.directive_id)).toEqual([directive.id]);
  });
});

describe("/api/territories, for System settings", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    ({ server, client } = await startSignedIn());
  });
  afterAll(async () => {
    await server?.close();
  });

  it("hands out an enrollment command, lists the territory it enrolls, and revokes it", async () => {
    expect((await server.client().get("/api/territories")).status).toBe(401);
    const created = await client.post("/api/territories/enrollment-tokens");
    expect(created.status).toBe(201);
    const { token, command } = enrollmentTokenCreated.parse(await created.json());
    expect(command).toBe(`npx cybros-nexus enroll --server http://localhost --token ${token}`);

    const baseUrl = await server.url();
    const enrolled = await post(baseUrl, "/conduits/v1/territories/enroll", {
      enroll_token: token,
      name: "desk",
      platform: "linux-x64",
    });
    const { territory_id, territory_token } = enrollResponse.parse(await enrolled.json());
    const nexus = new NexusHttp(baseUrl, territory_id, territory_token);
    await nexus.call("/territories/heartbeat", { capacity: 1, running: 0, drivers: ["host"], nexus_version: "0.1.0" });

    const listed = z
      .object({ territories: z.array(territorySummary) })
      .parse(await (await client.get("/api/territories")).json());
    expect(listed.territories).toEqual([
      expect.objectContaining({ id: territory_id, name: "desk", status: "online", drivers: ["host"], running: 0 }),
    ]);
    expect(listed.territories[0]!.lastSeenAt).not.toBeNull();

    const revoked = await client.post(`/api/territories/${territory_id}/revocation`);
    expect(territorySummary.parse(await revoked.json()).status).toBe("revoked");
    expect((await nexus.call("/polls", { wait_seconds: 0 })).status).toBe(403);
    const unknown = await client.post("/api/territories/01900000-0000-7000-8000-000000000000/revocation");
    expect(unknown.status).toBe(404);
    expect((await client.post("/api/territories/not-an-id/revocation")).status).toBe(404);
  });

  it("names the public URL in the enrollment command when one is set", async () => {
    const behindProxy = await startSignedIn({ env: { CYBROS_PUBLIC_URL: "https://cybros.example.com/" } });
    try {
      const created = await behindProxy.client.post("/api/territories/enrollment-tokens");
      const { token, command } = enrollmentTokenCreated.parse(await created.json());
      expect(command).toBe(`npx cybros-nexus enroll --server https://cybros.example.com --token ${token}`);
    } finally {
      await behindProxy.server.close();
    }
  });
});
