import { createHash } from "node:crypto";
import {
  type ArtifactContentType,
  type ArtifactRef,
  type ArtifactUploadRequest,
  type ArtifactUploadResponse,
  finalDirectiveStates,
  MAX_ARTIFACT_BYTES,
  MAX_ARTIFACTS_PER_DIRECTIVE,
} from "@cybros/protocol";
import { and, asc, count, eq } from "drizzle-orm";
import type { DirectiveRow } from "../conduits/index.js";
import { findOwned } from "../conversations/index.js";
import type { Current } from "../current.js";
import { conversationRuns, directiveArtifacts, directives, runSteps } from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";

/**
 * Artifacts: files a directive left for people and the model (a screenshot), uploaded by the Nexus that ran it
 * (POST /conduits/v1/directives/:id/artifacts) and read by the owner of the directive's conversation
 * (GET /api/artifacts/:id). Stored in the database beside the directive's output, deleted with it.
 */

const isFinal = (state: DirectiveRow["state"]) => (finalDirectiveStates as readonly string[]).includes(state);

/**
 * Stores one artifact of a running directive, once per name: the same name with the same bytes again is a
 * duplicate (a retried upload), with other bytes a conflict. At most MAX_ARTIFACTS_PER_DIRECTIVE per directive, each
 * at most MAX_ARTIFACT_BYTES. After the end only a duplicate is accepted.
 */
export async function storeArtifact(
  services: Services,
  directive: DirectiveRow,
  upload: ArtifactUploadRequest,
): Promise<ArtifactUploadResponse> {
  const bytes = Buffer.from(upload.bytes, "base64");
  if (bytes.length > MAX_ARTIFACT_BYTES) {
    throw new ValidationError({ bytes: `is at most ${MAX_ARTIFACT_BYTES} bytes once decoded` });
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const answer = (id: string, duplicate: boolean): ArtifactUploadResponse => ({
    artifact_id: id,
    directive_id: directive.id,
    name: upload.name,
    size_bytes: bytes.length,
    duplicate,
  });
  return services.db.transaction(async (tx) => {
    // The directive's row is the lock: two uploads of one directive are counted one after the other.
    const [current] = await tx.select().from(directives).where(eq(directives.id, directive.id)).for("update");
    if (!current) throw new NotFoundError("Directive");
    const [existing] = await tx
      .select({ id: directiveArtifacts.id, sha256: directiveArtifacts.sha256 })
      .from(directiveArtifacts)
      .where(and(eq(directiveArtifacts.directiveId, directive.id), eq(directiveArtifacts.name, upload.name)));
    if (existing) {
      if (existing.sha256 === sha256) return answer(existing.id, true);
      throw new ConflictError(
        "artifact_conflict",
        `An artifact named ${upload.name} was already stored with other bytes`,
      );
    }
    if (current.state === "leased") throw new ConflictError("invalid_state", "Report `started` before artifacts");
    if (isFinal(current.state)) {
      throw new ConflictError("directive_ended", `The directive already ended (${current.state})`);
    }
    const [stored] = await tx
      .select({ n: count() })
      .from(directiveArtifacts)
      .where(eq(directiveArtifacts.directiveId, directive.id));
    if (stored!.n >= MAX_ARTIFACTS_PER_DIRECTIVE) {
      throw new ConflictError(
        "too_many_artifacts",
        `A directive keeps at most ${MAX_ARTIFACTS_PER_DIRECTIVE} artifacts`,
      );
    }
    const id = uuidv7();
    await tx.insert(directiveArtifacts).values({
      id,
      directiveId: directive.id,
      name: upload.name,
      contentType: upload.content_type,
      bytes,
      sizeBytes: bytes.length,
      sha256,
    });
    return answer(id, false);
  });
}

/** A directive's artifacts, for the tool that waits on it (DirectiveOutcome.artifacts), in the order they came. */
export async function artifactsOf(services: Services, directiveId: string): Promise<ArtifactRef[]> {
  const rows = await services.db
    .select({
      id: directiveArtifacts.id,
      name: directiveArtifacts.name,
      contentType: directiveArtifacts.contentType,
      bytes: directiveArtifacts.sizeBytes,
    })
    .from(directiveArtifacts)
    .where(eq(directiveArtifacts.directiveId, directiveId))
    .orderBy(asc(directiveArtifacts.id));
  return rows;
}

/**
 * One artifact with its bytes, for the person who owns it: visible through the conversation of the run whose step
 * waited on its directive (as a directive's output is). Anything else is a 404, whether it exists or not.
 */
export async function ownedArtifact(
  services: Services,
  current: Current,
  artifactId: string,
): Promise<{ name: string; contentType: ArtifactContentType; bytes: Buffer }> {
  if (!/^[0-9a-f-]{36}$/i.test(artifactId)) throw new NotFoundError("Artifact");
  const [row] = await services.db
    .select({
      name: directiveArtifacts.name,
      contentType: directiveArtifacts.contentType,
      bytes: directiveArtifacts.bytes,
      accountId: directives.accountId,
      conversationId: conversationRuns.conversationId,
    })
    .from(directiveArtifacts)
    .innerJoin(directives, eq(directives.id, directiveArtifacts.directiveId))
    .innerJoin(runSteps, eq(runSteps.id, directives.runStepId))
    .innerJoin(conversationRuns, eq(conversationRuns.id, runSteps.runId))
    .where(eq(directiveArtifacts.id, artifactId));
  if (!row || row.accountId !== current.account.id) throw new NotFoundError("Artifact");
  try {
    await findOwned(services, current, row.conversationId);
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("Artifact");
    throw error;
  }
  return { name: row.name, contentType: row.contentType, bytes: Buffer.from(row.bytes) };
}
