import { enrollResponse, pollResponse } from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import { approvals, directives, users } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import { startSignedIn, type TestServer } from "../testing/harness.js";
import { answerDirectiveApproval } from "./approvals.js";
import { cancelDirective, createDirective, createFacility } from "./directives.js";
import { createEnrollmentToken } from "./enrollment.js";
import type { DirectiveRow } from "./index.js";

describe("answering a directive that waits for approval", () => {
  let server: TestServer;
  let userId: string;
  let nexus: { territoryId: string; token: string; baseUrl: string };
  let facilityId: string;
  const finished: DirectiveRow[] = [];

  beforeAll(async () => {
    ({ server } = await startSignedIn());
    server.services.conduits.onDirectiveFinished((directive) => void finished.push(directive));
    const db = server.services.db;
    userId = (await db.select().from(users))[0]!.id;
    const account = await defaultAccount(db);
    const { token } = await createEnrollmentToken(db, account.id);
    const baseUrl = await server.url();
    const response = await fetch(new URL("/conduits/v1/territories/enroll", baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ enroll_token: token, name: "box", platform: "linux-x64" }),
    });
    const enrolled = enrollResponse.parse(await response.json());
    nexus = { territoryId: enrolled.territory_id, token: enrolled.territory_token, baseUrl };
    facilityId = (await createFacility(db, { territoryId: nexus.territoryId, kind: "empty" })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  const db = () => server.services.db;
  /** What the tool-call step will write: a directive that waits, with policy's reasons. */
  const awaiting = async (shell = "sudo ls") => {
    const created = await createDirective(server.services, { facilityId, request: { command: { shell } } });
    const [row] = await db()
      .update(directives)
      .set({ state: "awaiting_approval", approvalReasons: ["dangerous pattern: sudo"] })
      .where(eq(directives.id, created.id))
      .returning();
    return row!;
  };
  const approvalOf = async (directiveId: string) =>
    (await db().select().from(approvals).where(eq(approvals.directiveId, directiveId)))[0];
  const poll = async () => {
    const response = await fetch(new URL("/conduits/v1/polls", nexus.baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${nexus.token}` },
      body: JSON.stringify({ wait_seconds: 0, max_directives: 4 }),
    });
    expect(response.status).toBe(200);
    return pollResponse.parse(await response.json()).directives.map((d) => d.directive_id);
  };

  it("keeps a waiting directive from every poll", async () => {
    const waiting = await awaiting();
    expect(await poll()).not.toContain(waiting.id);
    await cancelDirective(server.services, waiting.id);
  });

  it("approved: records who approved, queues it, wakes its territory's polls, and a poll claims it", async () => {
    const waiting = await awaiting();
    const claimable = vi.spyOn(server.services.conduits, "claimable");
    const answered = await answerDirectiveApproval(server.services, {
      directiveId: waiting.id,
      approved: true,
      reason: "fine by me",
      userId,
    });
    expect(answered).toMatchObject({ id: waiting.id, state: "queued", finishedAt: null });
    expect(claimable).toHaveBeenCalledWith(nexus.territoryId);
    claimable.mockRestore();
    expect(await approvalOf(waiting.id)).toMatchObject({
      decision: "approved",
      reason: "fine by me",
      decidedBy: userId,
    });
    expect(await poll()).toEqual([waiting.id]);
  });

  it("rejected: ends the directive canceled with end reason rejected, and tells its waiter", async () => {
    const waiting = await awaiting();
    const answered = await answerDirectiveApproval(server.services, {
      directiveId: waiting.id,
      approved: false,
      userId,
    });
    expect(answered).toMatchObject({ state: "canceled", endReason: "rejected", finishedAt: expect.any(Date) });
    expect(finished.find((row) => row.id === waiting.id)).toMatchObject({ state: "canceled", endReason: "rejected" });
    expect(await approvalOf(waiting.id)).toMatchObject({ decision: "rejected", reason: null, decidedBy: userId });
    expect(await poll()).not.toContain(waiting.id);
  });

  it("answers once: a second answer, or one for a directive not waiting, is a conflict that changes nothing", async () => {
    const waiting = await awaiting();
    await answerDirectiveApproval(server.services, { directiveId: waiting.id, approved: false, userId });
    await expect(
      answerDirectiveApproval(server.services, { directiveId: waiting.id, approved: true, userId }),
    ).rejects.toMatchObject({ status: 409, code: "no_approval_pending" });
    expect(await approvalOf(waiting.id)).toMatchObject({ decision: "rejected" });

    const queued = await createDirective(server.services, { facilityId, request: { command: { shell: "ls" } } });
    await expect(
      answerDirectiveApproval(server.services, { directiveId: queued.id, approved: true, userId }),
    ).rejects.toMatchObject({ status: 409 });
    expect(await approvalOf(queued.id)).toBeUndefined();
    await cancelDirective(server.services, queued.id);
  });

  it("two answers at once: one wins, the other is a conflict", async () => {
    const waiting = await awaiting();
    const results = await Promise.allSettled([
      answerDirectiveApproval(server.services, { directiveId: waiting.id, approved: true, userId }),
      answerDirectiveApproval(server.services, { directiveId: waiting.id, approved: false, userId }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { status: 409 } });
    const row = (await db().select().from(directives).where(eq(directives.id, waiting.id)))[0]!;
    const approval = await approvalOf(waiting.id);
    expect(approval?.decision).toBe(row.state === "queued" ? "approved" : "rejected");
    if (row.state === "queued") await cancelDirective(server.services, waiting.id);
  });

  it("is not found for an unknown, malformed or other account's directive", async () => {
    await expect(
      answerDirectiveApproval(server.services, { directiveId: uuidv7(), approved: true, userId }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      answerDirectiveApproval(server.services, { directiveId: "nope", approved: true, userId }),
    ).rejects.toMatchObject({ status: 404 });
    const waiting = await awaiting();
    await expect(
      answerDirectiveApproval(server.services, {
        directiveId: waiting.id,
        approved: true,
        userId,
        accountId: uuidv7(),
      }),
    ).rejects.toMatchObject({ status: 404 });
    expect((await db().select().from(directives).where(eq(directives.id, waiting.id)))[0]!.state).toBe(
      "awaiting_approval",
    );
  });

  it("a cancel withdraws the question: the approval record says withdrawn, by no one", async () => {
    const waiting = await awaiting();
    const canceled = await cancelDirective(server.services, waiting.id);
    expect(canceled).toMatchObject({ state: "canceled", endReason: "canceled_before_start" });
    expect(await approvalOf(waiting.id)).toMatchObject({ decision: "withdrawn", decidedBy: null, reason: null });
    expect(finished.find((row) => row.id === waiting.id)?.state).toBe("canceled");
    await expect(
      answerDirectiveApproval(server.services, { directiveId: waiting.id, approved: true, userId }),
    ).rejects.toMatchObject({ status: 409 });

    const queued = await createDirective(server.services, { facilityId, request: { command: { shell: "ls" } } });
    await cancelDirective(server.services, queued.id);
    expect(await approvalOf(queued.id)).toBeUndefined();
  });
});
