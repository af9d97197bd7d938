import type { EnrollRequest, EnrollResponse } from "@cybros/protocol";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { enrollmentTokens, territories } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import { HEARTBEAT_INTERVAL_SECONDS, nexusConfig } from "./index.js";
import { hashSecret, newSecret } from "./tokens.js";

const ENROLLMENT_TOKEN_TTL_MS = 60 * 60 * 1000;

/** A one-time token to enroll one machine in this account, good for an hour. Shown once. */
export async function createEnrollmentToken(
  db: Db,
  accountId: string,
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const secret = newSecret("cye");
  const id = uuidv7();
  const expiresAt = new Date(Date.now() + ENROLLMENT_TOKEN_TTL_MS);
  await db.insert(enrollmentTokens).values({ id, accountId, tokenHash: secret.hash, expiresAt });
  return { id, token: secret.token, expiresAt };
}

/** Consumes the enrollment token and creates the territory in one transaction; the token works once. */
export async function enroll(db: Db, request: EnrollRequest): Promise<EnrollResponse> {
  const territoryToken = newSecret("cyt");
  const territoryId = uuidv7();
  const enrolled = await db.transaction(async (tx) => {
    const [consumed] = await tx
      .update(enrollmentTokens)
      .set({ usedAt: sql`now()`, territoryId })
      .where(
        and(
          eq(enrollmentTokens.tokenHash, hashSecret(request.enroll_token)),
          isNull(enrollmentTokens.usedAt),
          gt(enrollmentTokens.expiresAt, sql`now()`),
        ),
      )
      .returning({ accountId: enrollmentTokens.accountId });
    if (!consumed) return false;
    await tx.insert(territories).values({
      id: territoryId,
      accountId: consumed.accountId,
      name: request.name,
      platform: request.platform,
      labels: request.labels,
      capacity: request.capacity,
      status: "pending",
      tokenHash: territoryToken.hash,
      heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    });
    return true;
  });
  if (!enrolled) throw new ValidationError({ enroll_token: "is unknown, already used or expired" });
  return { territory_id: territoryId, territory_token: territoryToken.token, config: nexusConfig };
}
