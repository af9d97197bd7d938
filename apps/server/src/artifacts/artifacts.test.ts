import {
  artifactUploadResponse,
  type ClaimedDirective,
  DIRECTIVE_TOKEN_HEADER,
  enrollResponse,
  MAX_ARTIFACT_BYTES,
  MAX_ARTIFACTS_PER_DIRECTIVE,
  pollResponse,
} from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount } from "../accounts/index.js";
import {
  createDirective,
  createEnrollmentToken,
  createFacility,
  type DirectiveRow,
  revokeTerritory,
} from "../conduits/index.js";
import { directiveOutcome } from "../conduits/outcome.js";
import { directiveArtifacts, directives } from "../db/schema.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";

/** A Nexus as the server sees it: real HTTP to /conduits/v1. */
class NexusHttp {
  constructor(
    readonly baseUrl: string,
    readonly territoryId: string,
    readonly token: string,
  ) {}

  static async enroll(server: TestServer): Promise<NexusHttp> {
    const account = await defaultAccount(server.services.db);
    const { token } = await createEnrollmentToken(server.services.db, account.id);
    const baseUrl = await server.url();
    const response = await post(baseUrl, "/conduits/v1/territories/enroll", {
      enroll_token: token,
      name: "box",
      platform: "linux-x64",
    });
    const enrolled = enrollResponse.parse(await response.json());
    return new NexusHttp(baseUrl, enrolled.territory_id, enrolled.territory_token);
  }

  call(path: string, body: unknown, headers: Record<string, string> = {}) {
    return post(this.baseUrl, `/conduits/v1${path}`, body, { authorization: `Bearer ${this.token}`, ...headers });
  }

  async claim(): Promise<ClaimedDirective> {
    const response = await this.call("/polls", { wait_seconds: 0 });
    const [claimed] = pollResponse.parse(await response.json()).directives;
    return claimed!;
  }

  report(claimed: ClaimedDirective, verb: string, body: unknown = {}, token = claimed.directive_token) {
    return this.call(`/directives/${claimed.directive_id}/${verb}`, body, { [DIRECTIVE_TOKEN_HEADER]: token });
  }

  upload(claimed: ClaimedDirective, name: string, bytes: Buffer | string, contentType = "image/png") {
    const body = { name, content_type: contentType, bytes: Buffer.from(bytes).toString("base64") };
    return this.report(claimed, "artifacts", body);
  }
}

function post(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; fields?: Record<string, string> } };
  return { status: response.status, code: body.error.code, fields: body.error.fields };
}

describe("POST /conduits/v1/directives/:id/artifacts, driven as a Nexus drives it", () => {
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    ({ server, client } = await startSignedIn());
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A directive of a new territory, claimed and (unless `started: false`) started. */
  const running = async (options: { started?: boolean } = {}) => {
    const nexus = await NexusHttp.enroll(server);
    const facility = await createFacility(server.services.db, { territoryId: nexus.territoryId, kind: "empty" });
    const directive = await createDirective(server.services, {
      facilityId: facility.id,
      request: { command: { argv: ["true"] } },
    });
    const claimed = await nexus.claim();
    expect(claimed.directive_id).toBe(directive.id);
    if (options.started !== false) expect((await nexus.report(claimed, "started")).status).toBe(200);
    return { nexus, claimed };
  };
  const stored = (directiveId: string) =>
    server.services.db.select().from(directiveArtifacts).where(eq(directiveArtifacts.directiveId, directiveId));

  it("stores an artifact once per name: the same bytes again are a duplicate, other bytes a conflict", async () => {
    const { nexus, claimed } = await running();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const first = await nexus.upload(claimed, "screenshot.png", png);
    expect(first.status).toBe(200);
    const answer = artifactUploadResponse.parse(await first.json());
    expect(answer).toMatchObject({ directive_id: claimed.directive_id, name: "screenshot.png", size_bytes: 7 });
    expect(answer.duplicate).toBe(false);

    const again = artifactUploadResponse.parse(await (await nexus.upload(claimed, "screenshot.png", png)).json());
    expect(again).toEqual({ ...answer, duplicate: true });
    const changed = await errorOf(await nexus.upload(claimed, "screenshot.png", Buffer.from("other")));
    expect(changed).toMatchObject({ status: 409, code: "artifact_conflict" });

    const rows = await stored(claimed.directive_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: answer.artifact_id, contentType: "image/png", sizeBytes: 7 });
    expect(Buffer.from(rows[0]!.bytes).equals(png)).toBe(true);
  });

  it("caps the size of one artifact and the number per directive", async () => {
    const { nexus, claimed } = await running();
    const big = await errorOf(await nexus.upload(claimed, "big.bin", Buffer.alloc(MAX_ARTIFACT_BYTES + 1)));
    expect(big).toMatchObject({ status: 422, fields: { bytes: expect.stringContaining("at most") } });
    const exact = await nexus.upload(claimed, "exact.bin", Buffer.alloc(MAX_ARTIFACT_BYTES, 7));
    expect(exact.status).toBe(200);
    // A body past the route's limit is refused before it is read whole.
    const huge = await nexus.report(claimed, "artifacts", {
      name: "huge",
      content_type: "text/plain",
      bytes: "A".repeat(15 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);

    for (let i = 1; i < MAX_ARTIFACTS_PER_DIRECTIVE; i++) {
      expect((await nexus.upload(claimed, `note-${i}.txt`, `note ${i}`, "text/plain")).status).toBe(200);
    }
    const over = await errorOf(await nexus.upload(claimed, "one-too-many.txt", "x", "text/plain"));
    expect(over).toMatchObject({ status: 409, code: "too_many_artifacts" });
    // A retried upload of one already stored still answers as a duplicate.
    const retried = await nexus.upload(claimed, "note-1.txt", "note 1", "text/plain");
    expect(artifactUploadResponse.parse(await retried.json()).duplicate).toBe(true);
    expect(await stored(claimed.directive_id)).toHaveLength(MAX_ARTIFACTS_PER_DIRECTIVE);
  });

  it("refuses bad names, content types and base64 field by field", async () => {
    const { nexus, claimed } = await running();
    const upload = (body: Record<string, unknown>) =>
      nexus.report(claimed, "artifacts", { name: "a.png", content_type: "image/png", bytes: "AAAA", ...body });
    for (const name of ["../escape.png", ".hidden", "dir/file.png", "", "x".repeat(201)]) {
      const refused = await errorOf(await upload({ name }));
      expect(refused).toMatchObject({ status: 422, fields: { name: expect.any(String) } });
    }
    for (const contentType of ["text/html", "image/svg+xml", "application/javascript"]) {
      const refused = await errorOf(await upload({ content_type: contentType }));
      expect(refused).toMatchObject({ status: 422, fields: { content_type: expect.any(String) } });
    }
    expect(await errorOf(await upload({ bytes: "not base64!" }))).toMatchObject({
      status: 422,
      fields: { bytes: "must be standard base64" },
    });
    expect(await stored(claimed.directive_id)).toEqual([]);
  });

  it("checks the territory and directive tokens as every directive report does", async () => {
    const { nexus, claimed } = await running();
    const other = await running();
    const missing = await nexus.call(`/directives/${claimed.directive_id}/artifacts`, {});
    expect(await errorOf(missing)).toMatchObject({ status: 401, code: "directive_token_required" });
    const mismatched = await nexus.report(claimed, "artifacts", {}, other.claimed.directive_token);
    expect(await errorOf(mismatched)).toMatchObject({ status: 403, code: "directive_token_mismatch" });
    // Another territory's Nexus holding this directive's token.
    const stolen = await other.nexus.report(claimed, "artifacts", {
      name: "a.txt",
      content_type: "text/plain",
      bytes: "",
    });
    expect(await errorOf(stolen)).toMatchObject({ status: 403, code: "directive_not_yours" });
    const unsigned = await post(nexus.baseUrl, `/conduits/v1/directives/${claimed.directive_id}/artifacts`, {});
    expect(await errorOf(unsigned)).toMatchObject({ status: 401, code: "territory_token_required" });

    await revokeTerritory(server.services, other.nexus.territoryId);
    const revoked = await other.nexus.upload(other.claimed, "late.txt", "x", "text/plain");
    expect(await errorOf(revoked)).toMatchObject({ status: 403, code: "territory_revoked" });
    expect(await stored(claimed.directive_id)).toEqual([]);
  });

  it("takes artifacts only between started and finished, and hands them to the directive's outcome", async () => {
    const leased = await running({ started: false });
    const early = await errorOf(await leased.nexus.upload(leased.claimed, "early.txt", "x", "text/plain"));
    expect(early).toMatchObject({ status: 409, code: "invalid_state" });

    const { nexus, claimed } = await running();
    const shot = artifactUploadResponse.parse(await (await nexus.upload(claimed, "shot.png", "png bytes")).json());
    const log = artifactUploadResponse.parse(
      await (await nexus.upload(claimed, "log.json", '{"ok":true}', "application/json")).json(),
    );
    expect((await nexus.report(claimed, "finished", { status: "succeeded", exit_code: 0 })).status).toBe(200);
    const late = await errorOf(await nexus.upload(claimed, "late.txt", "x", "text/plain"));
    expect(late).toMatchObject({ status: 409, code: "directive_ended" });
    const replayed = await nexus.upload(claimed, "shot.png", "png bytes");
    expect(artifactUploadResponse.parse(await replayed.json()).duplicate).toBe(true);

    const [row] = await server.services.db.select().from(directives).where(eq(directives.id, claimed.directive_id));
    const outcome = await directiveOutcome(server.services, row as DirectiveRow);
    expect(outcome.artifacts).toEqual([
      { id: shot.artifact_id, name: "shot.png", contentType: "image/png", bytes: 9 },
      { id: log.artifact_id, name: "log.json", contentType: "application/json", bytes: 11 },
    ]);
  });

  it("serves an artifact only through the conversation that waited on its directive", async () => {
    const { nexus, claimed } = await running();
    const shot = artifactUploadResponse.parse(await (await nexus.upload(claimed, "shot.png", "png")).json());
    // This directive was made outside any run: nobody's conversation shows it.
    expect((await client.get(`/api/artifacts/${shot.artifact_id}`)).status).toBe(404);
    expect((await client.get("/api/artifacts/not-an-id")).status).toBe(404);
    expect((await client.get("/api/artifacts/0190a0a0-0000-7000-8000-000000000000")).status).toBe(404);
    const anonymous = await fetch(new URL(`/api/artifacts/${shot.artifact_id}`, nexus.baseUrl));
    expect(anonymous.status).toBe(401);
  });
});
